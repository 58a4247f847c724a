import { canSee } from "../auth/scope.js";
import { type Handlers, keyOf, type RequestInput } from "../http/operation.js";
import { decodeCursor, page } from "../http/pagination.js";
import { ProblemError } from "../http/problem.js";
import { newId } from "../ids.js";
import type { Store } from "../store/store.js";
import type { WebhookEndpointRecord } from "../store/webhooks-repo.js";
import { presentDelivery, presentEndpoint } from "./present.js";
import type { SecretBox } from "./seal.js";
import { generateWebhookSecret } from "./sign.js";
import { checkWebhookUrl, type ResolveAll } from "./ssrf.js";

/** What the webhook handlers need. */
export interface WebhookHandlerDeps {
  store: Store;
  box: SecretBox;
  allowPrivate: boolean;
  /** `KNIFY_WEBHOOK_MAX_ENDPOINTS`: each endpoint multiplies every event of its workspace (#15 item 6). */
  maxEndpointsPerWorkspace: number;
  /** Resolves an endpoint's host for the SSRF check (the system resolver in the server). */
  resolveAll: ResolveAll;
}

/** 409 for a URL another endpoint of the workspace already has, on creation and on a change of URL alike. */
function urlExists(workspaceId: string, existingId: string): ProblemError {
  return new ProblemError(
    "webhook_url_exists",
    `Workspace ${workspaceId} already has endpoint ${existingId} for this URL; one endpoint per URL receives every event once. Change that one's event types instead, or delete it first.`,
  );
}

/** The `disabled_reason` of an endpoint paused with `PATCH … {"enabled": false}`. */
export const DISABLED_BY_API = "disabled through the API (PATCH /webhook-endpoints/{endpoint_id})";

/** The text of every `webhook.test` event. */
export const TEST_MESSAGE = "This is a test event from Knify: your endpoint received and can verify deliveries.";

/**
 * Handlers for `/webhook-endpoints` (one per operationId). Permissions are enforced from the spec before
 * these run; here each endpoint is scoped to its workspace, and other workspaces' endpoints answer 404.
 */
export function webhookHandlers(deps: WebhookHandlerDeps): Handlers {
  const { store, box } = deps;

  async function visibleEndpoint(input: RequestInput): Promise<WebhookEndpointRecord> {
    const id = input.params.endpoint_id ?? "";
    const endpoint = await store.webhooks.getEndpoint(id);
    if (!endpoint || !canSee(keyOf(input), endpoint.workspaceId)) {
      throw new ProblemError("not_found", `No webhook endpoint ${id} is visible to this key.`);
    }
    return endpoint;
  }

  /** The same SSRF checks for a new endpoint's URL and a changed one. */
  async function assertAcceptableUrl(url: string): Promise<void> {
    const problem = await checkWebhookUrl(url, {
      allowPrivate: deps.allowPrivate,
      resolveAll: deps.resolveAll,
    });
    if (problem) {
      throw new ProblemError("validation_failed", problem, {
        errors: [{ location: "body", path: "/url", message: problem }],
      });
    }
  }

  return {
    createWebhookEndpoint: async (input) => {
      const caller = keyOf(input);
      const { body } = input;
      const workspaceId = caller.workspaceId ?? body.workspace_id;
      if (workspaceId === undefined) {
        throw new ProblemError(
          "validation_failed",
          "This key is not limited to a workspace, so the endpoint's workspace must be named: add workspace_id.",
          {
            errors: [{ location: "body", path: "/workspace_id", message: "is required for a key without a workspace" }],
          },
        );
      }
      if (body.workspace_id !== undefined && !canSee(caller, body.workspace_id)) {
        throw new ProblemError("not_found", `No workspace ${body.workspace_id} is visible to this key.`);
      }
      await assertAcceptableUrl(body.url);
      const id = newId("we");
      const secret = generateWebhookSecret();
      const endpoint = await store.webhooks.createEndpoint(
        {
          id,
          workspaceId,
          url: body.url,
          eventTypes: body.event_types ?? [],
          description: body.description ?? null,
          sealedSecret: box.seal(secret, id),
          createdAt: input.now,
        },
        deps.maxEndpointsPerWorkspace,
      );
      if ("refused" in endpoint) {
        throw endpoint.refused === "duplicate"
          ? urlExists(workspaceId, endpoint.existingId)
          : new ProblemError(
              "webhook_endpoint_limit",
              `Workspace ${workspaceId} already has ${endpoint.count} webhook endpoints, the most a workspace may have (${deps.maxEndpointsPerWorkspace}). Delete one it no longer needs.`,
            );
      }
      return { body: { ...presentEndpoint(endpoint), secret } };
    },

    listWebhookEndpoints: async (input) => {
      const caller = keyOf(input);
      const { limit } = input.query;
      const before = decodeCursor(input.query.cursor);
      const items = await store.webhooks.listEndpoints({
        limit: limit + 1,
        ...(before ? { before } : {}),
        ...(caller.workspaceId !== null ? { workspaceId: caller.workspaceId } : {}),
      });
      const result = page(input, items, limit, (e) => e.id);
      return { body: result.body.map(presentEndpoint), headers: result.headers };
    },

    getWebhookEndpoint: async (input) => ({ body: presentEndpoint(await visibleEndpoint(input)) }),

    updateWebhookEndpoint: async (input) => {
      const endpoint = await visibleEndpoint(input);
      const { body } = input;
      if (body.url !== undefined) await assertAcceptableUrl(body.url);
      const updated = await store.webhooks.updateEndpoint(endpoint.id, {
        ...(body.url !== undefined ? { url: body.url } : {}),
        ...(body.event_types !== undefined ? { eventTypes: body.event_types } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.enabled !== undefined
          ? { enabled: body.enabled ? { enabled: true } : { enabled: false, reason: DISABLED_BY_API } }
          : {}),
      });
      if (!updated) throw new ProblemError("not_found", `No webhook endpoint ${endpoint.id} is visible to this key.`);
      if ("refused" in updated) throw urlExists(endpoint.workspaceId, updated.existingId);
      return { body: presentEndpoint(updated) };
    },

    deleteWebhookEndpoint: async (input) => {
      const endpoint = await visibleEndpoint(input);
      await store.webhooks.deleteEndpoint(endpoint.id);
      return { status: 204 };
    },

    testWebhookEndpoint: async (input) => {
      const endpoint = await visibleEndpoint(input);
      const delivery = await store.webhooks.enqueueFor(endpoint.id, {
        id: newId("evt"),
        type: "webhook.test",
        workspaceId: endpoint.workspaceId,
        createdAt: input.now,
        data: { endpoint_id: endpoint.id, message: TEST_MESSAGE },
      });
      if (!delivery) throw new ProblemError("not_found", `No webhook endpoint ${endpoint.id} is visible to this key.`);
      return { body: presentDelivery(delivery) };
    },

    listWebhookDeliveries: async (input) => {
      const endpoint = await visibleEndpoint(input);
      const { limit } = input.query;
      const before = decodeCursor(input.query.cursor);
      const items = await store.webhooks.listDeliveries(endpoint.id, {
        limit: limit + 1,
        ...(before ? { before } : {}),
      });
      const result = page(input, items, limit, (d) => d.id);
      return { body: result.body.map(presentDelivery), headers: result.headers };
    },

    redeliverWebhookDelivery: async (input) => {
      const endpoint = await visibleEndpoint(input);
      const id = input.params.delivery_id ?? "";
      const delivery = await store.webhooks.redeliver(endpoint.id, id, input.now);
      if (!delivery) throw new ProblemError("not_found", `Endpoint ${endpoint.id} has no delivery ${id}.`);
      return { body: presentDelivery(delivery) };
    },
  };
}
