import { canSee, findVisible, type MockRequest, type OperationHandlers, ok } from "../context.js";
import { pageNewestFirst } from "../paging.js";
import { notFound, ProblemError, validationProblem } from "../problem.js";
import type { EndpointRecord, WebhookEventType } from "../records.js";
import type { MockState } from "../state.js";

const workspaceOfEndpoint = (rec: EndpointRecord) => rec.endpoint.workspace_id;

const visibleEndpoint = (state: MockState, req: MockRequest): EndpointRecord =>
  findVisible(state.endpoints, String(req.params.endpoint_id), workspaceOfEndpoint, req.key, "webhook endpoint");

/** Loopback, private and link-local hosts, which the server refuses as webhook targets (SSRF). */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host.includes(":")) return host === "::1" || host === "::" || /^(fe8|fe9|fea|feb|fc|fd)/.test(host);
  const octets = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host)?.slice(1).map(Number);
  if (!octets) return false;
  const [a = 0, b = 0] = octets;
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}

/** The SSRF check for a new endpoint's URL and a changed one. */
function assertAcceptableUrl(state: MockState, url: string): void {
  if (!state.options.allowPrivateWebhookUrls && isPrivateHost(new URL(url).hostname)) {
    throw validationProblem([
      { location: "body", path: "/url", message: "must not point at a loopback, private or link-local address" },
    ]);
  }
}

/** The server's default `KNIFY_WEBHOOK_MAX_ENDPOINTS`, as the spec states it. */
const MAX_ENDPOINTS_PER_WORKSPACE = 20;

/** One endpoint per URL in a workspace, on creation and on a change of URL alike. */
function assertUrlFree(siblings: EndpointRecord[], url: string, workspaceId: string): void {
  const target = new URL(url).href;
  const same = siblings.find((rec) => new URL(rec.endpoint.url).href === target);
  if (same) {
    throw new ProblemError(
      "webhook_url_exists",
      `Workspace ${workspaceId} already has endpoint ${same.endpoint.id} for this URL.`,
    );
  }
}

interface CreateEndpointBody {
  url: string;
  event_types?: WebhookEventType[];
  description?: string;
  workspace_id?: string;
}

/** Webhook endpoints and their deliveries. The mock queues deliveries; it never sends them. */
export const webhookHandlers: OperationHandlers = {
  createWebhookEndpoint(req, state) {
    const body = req.body as CreateEndpointBody;
    const scope = req.key?.key.workspace_id ?? null;
    if (body.workspace_id !== undefined && !canSee(req.key, body.workspace_id)) {
      throw notFound("workspace", body.workspace_id);
    }
    const workspaceId = body.workspace_id ?? scope;
    if (workspaceId === null) {
      throw validationProblem([
        { location: "body", path: "/workspace_id", message: "is required for a key without a workspace" },
      ]);
    }
    assertAcceptableUrl(state, body.url);
    const siblings = [...state.endpoints.values()].filter((rec) => workspaceOfEndpoint(rec) === workspaceId);
    assertUrlFree(siblings, body.url, workspaceId);
    if (siblings.length >= MAX_ENDPOINTS_PER_WORKSPACE) {
      throw new ProblemError(
        "webhook_endpoint_limit",
        `Workspace ${workspaceId} already has ${siblings.length} webhook endpoints, the most a workspace may have (${MAX_ENDPOINTS_PER_WORKSPACE}).`,
      );
    }
    const seed = { workspace_id: workspaceId, url: body.url, description: body.description ?? null };
    return ok(state.createEndpoint(body.event_types ? { ...seed, event_types: body.event_types } : seed));
  },

  listWebhookEndpoints(req, state) {
    const visible = [...state.endpoints.values()].filter((rec) => canSee(req.key, workspaceOfEndpoint(rec)));
    const page = pageNewestFirst(visible, (rec) => rec.order, req.query, req.url);
    return ok(
      page.items.map((rec) => rec.endpoint),
      page.headers,
    );
  },

  getWebhookEndpoint(req, state) {
    return ok(visibleEndpoint(state, req).endpoint);
  },

  updateWebhookEndpoint(req, state) {
    const rec = visibleEndpoint(state, req);
    const body = req.body as Partial<CreateEndpointBody> & { description?: string | null; enabled?: boolean };
    const { endpoint } = rec;
    if (body.url !== undefined) {
      assertAcceptableUrl(state, body.url);
      const others = [...state.endpoints.values()].filter(
        (other) => other !== rec && workspaceOfEndpoint(other) === endpoint.workspace_id,
      );
      assertUrlFree(others, body.url, endpoint.workspace_id);
    }
    if (body.url !== undefined) endpoint.url = body.url;
    if (body.event_types !== undefined) endpoint.event_types = body.event_types;
    if (body.description !== undefined) endpoint.description = body.description;
    if (body.enabled === true) Object.assign(endpoint, { enabled: true, disabled_reason: null });
    if (body.enabled === false) {
      Object.assign(endpoint, { enabled: false, disabled_reason: "disabled through the API" });
      for (const { delivery } of state.deliveries.values()) {
        if (delivery.endpoint_id === endpoint.id && delivery.status === "pending") {
          Object.assign(delivery, { status: "failed", next_attempt_at: null });
        }
      }
    }
    return ok(endpoint);
  },

  deleteWebhookEndpoint(req, state) {
    const { endpoint } = visibleEndpoint(state, req);
    state.endpoints.delete(endpoint.id);
    // "its pending deliveries are dropped"; the mock keeps no others apart from them either.
    for (const [id, rec] of state.deliveries) if (rec.delivery.endpoint_id === endpoint.id) state.deliveries.delete(id);
    return { status: 204 };
  },

  testWebhookEndpoint(req, state) {
    const rec = visibleEndpoint(state, req);
    const data = { endpoint_id: rec.endpoint.id, message: "This is a test event from Knify." };
    return ok(state.queueDelivery(rec, "webhook.test", data).delivery);
  },

  listWebhookDeliveries(req, state) {
    const { endpoint } = visibleEndpoint(state, req);
    const own = [...state.deliveries.values()].filter((rec) => rec.delivery.endpoint_id === endpoint.id);
    const page = pageNewestFirst(own, (rec) => rec.order, req.query, req.url);
    return ok(
      page.items.map((rec) => rec.delivery),
      page.headers,
    );
  },

  redeliverWebhookDelivery(req, state) {
    const { endpoint } = visibleEndpoint(state, req);
    const id = String(req.params.delivery_id);
    const rec = state.deliveries.get(id);
    if (!rec || rec.delivery.endpoint_id !== endpoint.id) throw notFound("delivery", id);
    Object.assign(rec.delivery, { status: "pending", next_attempt_at: state.now().toISOString() });
    return ok(rec.delivery);
  },
};
