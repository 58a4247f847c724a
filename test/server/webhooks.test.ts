import { readFileSync, statSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { responseValidator } from "@knify/sdk/testing";
import { unwrap, verify } from "@knify/sdk/webhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { spec } from "../../server/src/spec.js";
import { operationOf } from "../support/operation.js";
import { seedVerifyWebhook } from "../support/seed-python.js";
import { startTestServer, type TestServer } from "../support/server.js";

const checkResponse = responseValidator(spec as unknown as Parameters<typeof responseValidator>[0]);

// --- a real loopback receiver -------------------------------------------------------------------------

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** Records every request with its exact bytes; `respond` picks the status per request. */
class Receiver {
  readonly requests: Received[] = [];
  respond: (path: string, count: number) => number = () => 200;
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const path = req.url ?? "/";
        this.requests.push({ path, headers: req.headers, raw: Buffer.concat(chunks) });
        const count = this.requests.filter((r) => r.path === path).length;
        res.statusCode = this.respond(path, count);
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  at(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Resolves once `path` received `count` requests (no fixed sleep). */
  async waitFor(path: string, count: number): Promise<Received[]> {
    await vi.waitFor(() => expect(this.at(path).length).toBeGreaterThanOrEqual(count), { timeout: 5000, interval: 10 });
    return this.at(path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** Runs the seed's `verify_webhook` on the exact bytes received (decoded as the UTF-8 text Python gets). */
const pythonVerify = (cases: { raw: Buffer; signature: string; secret: string }[]) =>
  seedVerifyWebhook(cases.map((c) => ({ payload: c.raw, signature: c.signature, secret: c.secret })));

// --- helpers -------------------------------------------------------------------------------------------

let server: TestServer;
let receiver: Receiver;

async function call(method: string, path: string, apiKey: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed: unknown = text === "" ? undefined : JSON.parse(text);
  const contentType = response.headers.get("content-type") ?? undefined;
  expect(
    checkResponse(operationOf(method, path) ?? "", response.status, parsed, contentType),
    `${method} ${path}`,
  ).toEqual([]);
  return { status: response.status, body: parsed as Record<string, unknown> | undefined };
}

async function createEndpoint(path: string, extra: Record<string, unknown> = {}, apiKey = server.adminKey) {
  const res = await call("POST", "/webhook-endpoints", apiKey, {
    url: `${receiver.url}${path}`,
    workspace_id: "ws_hooks",
    ...extra,
  });
  expect(res.status).toBe(200);
  return res.body as unknown as { id: string; secret: string; workspace_id: string; url: string };
}

async function deliveries(endpointId: string) {
  const res = await call("GET", `/webhook-endpoints/${endpointId}/deliveries`, server.adminKey);
  expect(res.status).toBe(200);
  return res.body as unknown as Array<{
    id: string;
    event_id: string;
    status: string;
    attempt_count: number;
    next_attempt_at: string | null;
    attempts: Array<{ status_code: number | null; error: string | null; duration_ms: number }>;
  }>;
}

function event(
  id: string,
  type: "job.completed" | "job.created" | "workspace.updated",
  data: unknown,
  workspaceId = "ws_hooks",
) {
  return { id, type, workspaceId, createdAt: Date.now(), data };
}

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
  server = await startTestServer({
    env: {
      KNIFY_WEBHOOK_ALLOW_PRIVATE: "1",
      KNIFY_WEBHOOK_RETRY_SCHEDULE_MS: "30,30",
      KNIFY_WEBHOOK_POLL_INTERVAL_MS: "20",
    },
  });
});

afterAll(async () => {
  await server.stop();
  await receiver.stop();
});

// --- endpoints -----------------------------------------------------------------------------------------

describe("POST/GET/DELETE /webhook-endpoints", () => {
  it("creates an endpoint and shows its secret once, never again", async () => {
    const created = await createEndpoint("/crud", { event_types: ["job.completed"], description: "CI" });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(created).toMatchObject({
      workspace_id: "ws_hooks",
      url: `${receiver.url}/crud`,
      event_types: ["job.completed"],
      description: "CI",
      enabled: true,
      disabled_reason: null,
    });

    const got = await call("GET", `/webhook-endpoints/${created.id}`, server.adminKey);
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty("secret");
    expect(got.body).toMatchObject({ id: created.id, enabled: true });

    const list = await call("GET", "/webhook-endpoints?limit=100", server.adminKey);
    const listed = (list.body as unknown as Array<Record<string, unknown>>).find((e) => e.id === created.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty("secret");

    expect((await call("DELETE", `/webhook-endpoints/${created.id}`, server.adminKey)).status).toBe(204);
    expect((await call("GET", `/webhook-endpoints/${created.id}`, server.adminKey)).status).toBe(404);
    expect((await call("DELETE", `/webhook-endpoints/${created.id}`, server.adminKey)).status).toBe(404);
  });

  it("pages the list newest first with a Link header", async () => {
    const a = await createEndpoint("/page-a");
    const b = await createEndpoint("/page-b");
    const first = await fetch(`${server.url}/webhook-endpoints?limit=1`, {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    expect(((await first.json()) as Array<{ id: string }>).map((e) => e.id)).toEqual([b.id]);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get("link") ?? "")?.[1];
    expect(next).toBeDefined();
    const second = await fetch(new URL(next as string, server.url), {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    expect(((await second.json()) as Array<{ id: string }>).map((e) => e.id)).toEqual([a.id]);
  });

  it("stores the secret encrypted: neither the database nor its WAL holds it in clear", async () => {
    const created = await createEndpoint("/at-rest");
    const files = [server.config.databasePath, `${server.config.databasePath}-wal`].filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    });
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(readFileSync(file).includes(created.secret)).toBe(false);
    expect(statSync(join(server.dataDir, "secret.key")).mode & 0o777).toBe(0o600);
  });

  it("requires workspace_id from a key without a workspace (400)", async () => {
    const res = await call("POST", "/webhook-endpoints", server.adminKey, { url: `${receiver.url}/x` });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "validation_failed" });
    expect(String(res.body?.detail)).toContain("workspace_id");
  });
});

describe("workspace scoping and permissions", () => {
  it("a scoped key creates in its own workspace and cannot see another's endpoints (404)", async () => {
    const mine = await server.key({ workspaceId: "ws_scoped_a", permissions: ["workspaces:read", "workspaces:write"] });
    const other = await server.key({
      workspaceId: "ws_scoped_b",
      permissions: ["workspaces:read", "workspaces:write"],
    });
    const res = await call("POST", "/webhook-endpoints", mine.apiKey, { url: `${receiver.url}/scoped` });
    expect(res.status).toBe(200);
    expect(res.body?.workspace_id).toBe("ws_scoped_a");
    const id = res.body?.id as string;

    const foreign = await call("POST", "/webhook-endpoints", mine.apiKey, {
      url: `${receiver.url}/scoped`,
      workspace_id: "ws_scoped_b",
    });
    expect(foreign.status).toBe(404);

    for (const [method, path] of [
      ["GET", `/webhook-endpoints/${id}`],
      ["DELETE", `/webhook-endpoints/${id}`],
      ["POST", `/webhook-endpoints/${id}/test`],
      ["GET", `/webhook-endpoints/${id}/deliveries`],
      ["POST", `/webhook-endpoints/${id}/deliveries/dlv_01JD3Z8Q4W6T9X2B5N7M0PQRSY/redeliver`],
    ] as const) {
      const answer = await call(method, path, other.apiKey);
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
    const listed = await call("GET", "/webhook-endpoints?limit=100", other.apiKey);
    expect((listed.body as unknown as Array<{ id: string }>).map((e) => e.id)).not.toContain(id);
    const own = await call("GET", "/webhook-endpoints?limit=100", mine.apiKey);
    expect(
      (own.body as unknown as Array<{ workspace_id: string }>).every((e) => e.workspace_id === "ws_scoped_a"),
    ).toBe(true);
  });

  it("needs workspaces:write to create, delete, test and redeliver; workspaces:read to read", async () => {
    const endpoint = await createEndpoint("/perms");
    const reader = await server.key({ permissions: ["workspaces:read"] });
    const jobsOnly = await server.key({ permissions: ["jobs:read"] });

    expect((await call("GET", `/webhook-endpoints/${endpoint.id}`, reader.apiKey)).status).toBe(200);
    expect((await call("GET", `/webhook-endpoints/${endpoint.id}/deliveries`, reader.apiKey)).status).toBe(200);
    for (const [method, path, body] of [
      ["POST", "/webhook-endpoints", { url: `${receiver.url}/p`, workspace_id: "ws_hooks" }],
      ["DELETE", `/webhook-endpoints/${endpoint.id}`, undefined],
      ["POST", `/webhook-endpoints/${endpoint.id}/test`, undefined],
      ["POST", `/webhook-endpoints/${endpoint.id}/deliveries/dlv_01JD3Z8Q4W6T9X2B5N7M0PQRSY/redeliver`, undefined],
    ] as const) {
      const answer = await call(method, path, reader.apiKey, body);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body?.missing_permission).toBe("workspaces:write");
    }
    const denied = await call("GET", "/webhook-endpoints", jobsOnly.apiKey);
    expect(denied.status).toBe(403);
    expect(denied.body?.missing_permission).toBe("workspaces:read");
  });
});

// --- delivery ------------------------------------------------------------------------------------------

describe("POST /webhook-endpoints/{id}/test", () => {
  it("delivers a signed webhook.test envelope that the SDK and the seed's Python receiver verify", async () => {
    const endpoint = await createEndpoint("/test-event");
    const queued = await call("POST", `/webhook-endpoints/${endpoint.id}/test`, server.adminKey);
    expect(queued.status).toBe(200);
    expect(queued.body).toMatchObject({
      endpoint_id: endpoint.id,
      event_type: "webhook.test",
      status: "pending",
      attempts: [],
    });

    const [received] = await receiver.waitFor("/test-event", 1);
    if (!received) throw new Error("nothing received");
    expect(received.headers["content-type"]).toBe("application/json");
    expect(received.headers["webhook-id"]).toBe(queued.body?.event_id);
    expect(Math.abs(Number(received.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(30);

    const event = unwrap(received.raw, received.headers, endpoint.secret);
    expect(event).toMatchObject({
      id: queued.body?.event_id,
      type: "webhook.test",
      data: { endpoint_id: endpoint.id },
    });
    expect(Object.keys(event)).toEqual(["id", "type", "created_at", "data"]);
    const signature = received.headers["x-knify-signature"] as string;
    expect(verify(received.raw, signature, endpoint.secret)).toBe(true);
    expect(pythonVerify([{ raw: received.raw, signature, secret: endpoint.secret }])).toEqual([true]);

    await vi.waitFor(async () => expect((await deliveries(endpoint.id))[0]?.status).toBe("succeeded"), {
      timeout: 3000,
    });
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ attempt_count: 1, next_attempt_at: null });
    expect(delivery?.attempts).toMatchObject([{ status_code: 200, error: null }]);
  });
});

describe("events of the workspace", () => {
  it("go to every enabled endpoint that wants their type, with non-ASCII data signed byte for byte", async () => {
    const completedOnly = await createEndpoint("/only-completed", {
      event_types: ["job.completed"],
      workspace_id: "ws_events",
    });
    const all = await createEndpoint("/all", { workspace_id: "ws_events" });
    await createEndpoint("/elsewhere", { workspace_id: "ws_other" });

    expect(
      await server.store.webhooks.enqueue(
        event("evt_01JDCOMPLETED0000000000000", "job.completed", { id: "job_1" }, "ws_events"),
      ),
    ).toBe(2);
    const workspace = { workspace_id: "ws_events", name: "héllo ✓ 🚀 日本語", path: "/workspaces/x" };
    expect(
      await server.store.webhooks.enqueue(
        event("evt_01JDUPDATED00000000000000", "workspace.updated", workspace, "ws_events"),
      ),
    ).toBe(1);
    expect(
      await server.store.webhooks.enqueue(event("evt_01JDNOBODY0000000000000000", "job.created", {}, "ws_nobody")),
    ).toBe(0);

    const [toCompleted] = await receiver.waitFor("/only-completed", 1);
    const toAll = await receiver.waitFor("/all", 2);
    expect(toCompleted?.headers["webhook-id"]).toBe("evt_01JDCOMPLETED0000000000000");
    expect(toAll.map((r) => r.headers["webhook-id"]).sort()).toEqual([
      "evt_01JDCOMPLETED0000000000000",
      "evt_01JDUPDATED00000000000000",
    ]);
    expect(receiver.at("/elsewhere")).toEqual([]);

    const updated = toAll.find((r) => r.headers["webhook-id"] === "evt_01JDUPDATED00000000000000");
    if (!updated || !toCompleted) throw new Error("missing delivery");
    expect(updated.raw.includes(Buffer.from("日本語", "utf8"))).toBe(true);
    expect(unwrap(updated.raw, updated.headers, all.secret)).toMatchObject({
      type: "workspace.updated",
      data: workspace,
    });
    expect(unwrap(toCompleted.raw, toCompleted.headers, completedOnly.secret)).toMatchObject({ type: "job.completed" });
    expect(
      pythonVerify([
        { raw: updated.raw, signature: updated.headers["x-knify-signature"] as string, secret: all.secret },
        {
          raw: toCompleted.raw,
          signature: toCompleted.headers["x-knify-signature"] as string,
          secret: completedOnly.secret,
        },
        // The harness can fail: the other endpoint's secret must not verify.
        { raw: updated.raw, signature: updated.headers["x-knify-signature"] as string, secret: completedOnly.secret },
      ]),
    ).toEqual([true, true, false]);
  });
});

describe("retries", () => {
  it("retries a 503 on the schedule, then succeeds; every attempt is listed, with the same webhook-id", async () => {
    receiver.respond = (path, count) => (path === "/flaky" && count <= 2 ? 503 : 200);
    const endpoint = await createEndpoint("/flaky");
    const queued = await call("POST", `/webhook-endpoints/${endpoint.id}/test`, server.adminKey);
    const received = await receiver.waitFor("/flaky", 3);
    expect(new Set(received.map((r) => r.headers["webhook-id"]))).toEqual(new Set([queued.body?.event_id]));
    for (const r of received) expect(unwrap(r.raw, r.headers, endpoint.secret).id).toBe(queued.body?.event_id);

    await vi.waitFor(async () => expect((await deliveries(endpoint.id))[0]?.status).toBe("succeeded"), {
      timeout: 3000,
    });
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery?.attempt_count).toBe(3);
    expect(delivery?.attempts.map((a) => a.status_code)).toEqual([503, 503, 200]);
  });

  it("fails the delivery once the schedule is used up (1 attempt + 2 retries)", async () => {
    receiver.respond = (path) => (path === "/broken" ? 500 : 200);
    const endpoint = await createEndpoint("/broken");
    await call("POST", `/webhook-endpoints/${endpoint.id}/test`, server.adminKey);
    await vi.waitFor(async () => expect((await deliveries(endpoint.id))[0]?.status).toBe("failed"), { timeout: 3000 });
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ attempt_count: 3, next_attempt_at: null });
    expect(receiver.at("/broken")).toHaveLength(3);
  });

  it("counts a connection refused as a failed attempt with its error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const res = await call("POST", "/webhook-endpoints", server.adminKey, {
      url: `http://127.0.0.1:${port}/`,
      workspace_id: "ws_refused",
    });
    await call("POST", `/webhook-endpoints/${res.body?.id}/test`, server.adminKey);
    await vi.waitFor(async () => expect((await deliveries(res.body?.id as string))[0]?.status).toBe("failed"), {
      timeout: 3000,
    });
    const [delivery] = await deliveries(res.body?.id as string);
    expect(delivery?.attempts).toHaveLength(3);
    expect(delivery?.attempts[0]).toMatchObject({ status_code: null });
    expect(delivery?.attempts[0]?.error).toContain("ECONNREFUSED");
  });

  it("a redirect is not followed and counts as a failure", async () => {
    receiver.respond = (path) => (path === "/moved" ? 302 : 200);
    const endpoint = await createEndpoint("/moved");
    await call("POST", `/webhook-endpoints/${endpoint.id}/test`, server.adminKey);
    await vi.waitFor(async () => expect((await deliveries(endpoint.id))[0]?.status).toBe("failed"), { timeout: 3000 });
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery?.attempts.map((a) => a.status_code)).toEqual([302, 302, 302]);
    expect(delivery?.attempts[0]?.error).toContain("redirect");
  });
});

describe("410 Gone", () => {
  it("disables the endpoint, fails the delivery, and stops queueing the workspace's events for it", async () => {
    receiver.respond = (path) => (path === "/gone" ? 410 : 200);
    const endpoint = await createEndpoint("/gone", { workspace_id: "ws_gone" });
    await call("POST", `/webhook-endpoints/${endpoint.id}/test`, server.adminKey);
    await vi.waitFor(
      async () =>
        expect((await call("GET", `/webhook-endpoints/${endpoint.id}`, server.adminKey)).body?.enabled).toBe(false),
      { timeout: 3000 },
    );
    const got = await call("GET", `/webhook-endpoints/${endpoint.id}`, server.adminKey);
    expect(got.body).toMatchObject({ enabled: false, disabled_reason: "the receiver answered 410 Gone" });
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempt_count: 1, next_attempt_at: null });
    expect(receiver.at("/gone")).toHaveLength(1);
    expect(
      await server.store.webhooks.enqueue(event("evt_01JDGONE000000000000000000", "job.created", {}, "ws_gone")),
    ).toBe(0);
  });
});

describe("POST /webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver", () => {
  it("sends the same event again with the same webhook-id and body", async () => {
    receiver.respond = () => 200;
    const endpoint = await createEndpoint("/again");
    const queued = await call("POST", `/webhook-endpoints/${endpoint.id}/test`, server.adminKey);
    await receiver.waitFor("/again", 1);
    await vi.waitFor(async () => expect((await deliveries(endpoint.id))[0]?.status).toBe("succeeded"), {
      timeout: 3000,
    });

    const again = await call(
      "POST",
      `/webhook-endpoints/${endpoint.id}/deliveries/${queued.body?.id}/redeliver`,
      server.adminKey,
    );
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: queued.body?.id, status: "pending", attempt_count: 1 });
    const [first, second] = await receiver.waitFor("/again", 2);
    if (!first || !second) throw new Error("missing delivery");
    expect(second.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(second.raw.equals(first.raw)).toBe(true);
    expect(unwrap(second.raw, second.headers, endpoint.secret).id).toBe(queued.body?.event_id);

    await vi.waitFor(async () => expect((await deliveries(endpoint.id))[0]?.attempt_count).toBe(2), { timeout: 3000 });
    const missing = await call(
      "POST",
      `/webhook-endpoints/${endpoint.id}/deliveries/dlv_01JD3Z8Q4W6T9X2B5N7M0PQRSY/redeliver`,
      server.adminKey,
    );
    expect(missing.status).toBe(404);
  });
});

// --- SSRF ----------------------------------------------------------------------------------------------

describe("SSRF protection at registration", () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer();
  });
  afterAll(async () => {
    await strict.stop();
  });

  it.each([
    ["http://127.0.0.1:8080/hook", "loopback"],
    ["http://[::1]/hook", "loopback"],
    ["http://localhost:8080/hook", "loopback"],
    ["https://10.1.2.3/hook", "private"],
    ["https://192.168.0.10/hook", "private"],
    ["http://169.254.169.254/latest/meta-data", "link-local"],
    ["http://[fe80::1]/hook", "link-local"],
    ["http://100.64.0.1/hook", "carrier-grade NAT"],
    ["http://0.0.0.0/hook", "unspecified"],
    ["http://[::ffff:127.0.0.1]/hook", "loopback"],
    ["http://[::ffff:7f00:1]/hook", "loopback"],
    ["http://[64:ff9b::7f00:1]/hook", "NAT64"],
    ["http://[64:ff9b::a9fe:a9fe]/latest/meta-data", "link-local"],
    ["http://[2002:7f00:1::1]/hook", "6to4"],
    ["http://[::7f00:1]/hook", "IPv4-compatible"],
    ["http://192.0.0.170/hook", "reserved"],
    ["http://198.18.0.1/hook", "benchmarking"],
    ["http://203.0.113.5/hook", "documentation"],
    ["http://240.0.0.1/hook", "reserved"],
    ["http://[2001:db8::1]/hook", "documentation"],
  ])("refuses %s without KNIFY_WEBHOOK_ALLOW_PRIVATE (400)", async (url, reason) => {
    const response = await fetch(`${strict.url}/webhook-endpoints`, {
      method: "POST",
      headers: { authorization: `Bearer ${strict.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ url, workspace_id: "ws_ssrf" }),
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { code: string; detail: string; errors: Array<{ path: string }> };
    expect(problem.code).toBe("validation_failed");
    expect(problem.detail).toContain(reason);
    expect(problem.detail).toContain("KNIFY_WEBHOOK_ALLOW_PRIVATE=1");
    expect(problem.errors[0]?.path).toBe("/url");
  });

  it("refuses URLs with credentials and non-http schemes (400)", async () => {
    for (const url of ["https://user:pass@hooks.example.com/", "ftp://hooks.example.com/"]) {
      const response = await fetch(`${strict.url}/webhook-endpoints`, {
        method: "POST",
        headers: { authorization: `Bearer ${strict.adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ url, workspace_id: "ws_ssrf" }),
      });
      expect(response.status, url).toBe(400);
    }
  });

  it("allows a loopback receiver with KNIFY_WEBHOOK_ALLOW_PRIVATE=1", async () => {
    const created = await createEndpoint("/allowed");
    expect(created.url).toBe(`${receiver.url}/allowed`);
  });
});
