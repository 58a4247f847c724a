import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { unwrap } from "@knify/sdk/webhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// PATCH /webhook-endpoints/{endpoint_id} (issue 8, item 5) against a real server and real loopback receivers.
let server: TestServer;
let strict: TestServer;
let receiver: Server;
let receiverUrl = "";
/** Status the receiver answers per path; requests received per path, with headers and exact bytes. */
const statusFor = new Map<string, number>();
const received: { path: string; headers: Record<string, string | string[] | undefined>; raw: Buffer }[] = [];
const at = (path: string) => received.filter((r) => r.path === path);

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({ path, headers: req.headers, raw: Buffer.concat(chunks) });
      res.statusCode = statusFor.get(path) ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  server = await startTestServer({
    env: {
      KNIFY_WEBHOOK_ALLOW_PRIVATE: "1",
      KNIFY_WEBHOOK_POLL_INTERVAL_MS: "20",
      KNIFY_WEBHOOK_RETRY_SCHEDULE_MS: "60000",
    },
  });
  strict = await startTestServer();
});
afterAll(async () => {
  await server.stop();
  await strict.stop();
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

const api = (method: string, path: string, body?: unknown) =>
  call(server.url, method, path, { key: server.adminKey, ...(body === undefined ? {} : { body }) });

async function endpoint(path: string, workspace_id: string) {
  const res = await api("POST", "/webhook-endpoints", { url: `${receiverUrl}${path}`, workspace_id });
  expect(res.status).toBe(200);
  return res.body as { id: string; secret: string };
}

describe("PATCH /webhook-endpoints/{endpoint_id}", () => {
  it("re-enables an endpoint the server disabled after a 410; the next event is delivered", async () => {
    statusFor.set("/moved", 410);
    const { id, secret } = await endpoint("/moved", "ws_patch_410");
    await api("POST", `/webhook-endpoints/${id}/test`);
    await vi.waitFor(async () => expect((await api("GET", `/webhook-endpoints/${id}`)).body.enabled).toBe(false), {
      timeout: 5000,
      interval: 20,
    });

    statusFor.set("/moved", 200);
    const enabled = await api("PATCH", `/webhook-endpoints/${id}`, { enabled: true });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ id, enabled: true, disabled_reason: null });
    expect(enabled.body).not.toHaveProperty("secret");

    // A workspace event reaches it again (it was skipped while disabled), signed with the unchanged secret.
    const queued = await server.store.webhooks.enqueue({
      id: "evt_01JDPATCHREENABLED00000000",
      type: "workspace.updated",
      workspaceId: "ws_patch_410",
      createdAt: Date.now(),
      data: {},
    });
    expect(queued).toBe(1);
    await vi.waitFor(() => expect(at("/moved").length).toBe(2), { timeout: 5000, interval: 20 });
    const last = at("/moved")[1];
    expect(unwrap(last?.raw ?? "", last?.headers ?? {}, secret).id).toBe("evt_01JDPATCHREENABLED00000000");
  });

  it("changes url, event_types and description; deliveries follow the new url", async () => {
    const { id } = await endpoint("/old-home", "ws_patch_url");
    const patched = await api("PATCH", `/webhook-endpoints/${id}`, {
      url: `${receiverUrl}/new-home`,
      event_types: ["webhook.test", "job.failed"],
      description: "moved",
    });
    expect(patched.body).toMatchObject({
      url: `${receiverUrl}/new-home`,
      event_types: ["webhook.test", "job.failed"],
      description: "moved",
    });
    await api("POST", `/webhook-endpoints/${id}/test`);
    await vi.waitFor(() => expect(at("/new-home").length).toBe(1), { timeout: 5000, interval: 20 });
    expect(at("/old-home")).toHaveLength(0);

    const cleared = await api("PATCH", `/webhook-endpoints/${id}`, { description: null });
    expect(cleared.body).toMatchObject({ description: null, event_types: ["webhook.test", "job.failed"] });
  });

  it("pauses an endpoint with enabled: false; its events are no longer queued", async () => {
    const { id } = await endpoint("/paused", "ws_patch_pause");
    const paused = await api("PATCH", `/webhook-endpoints/${id}`, { enabled: false });
    expect(paused.body).toMatchObject({ enabled: false, disabled_reason: expect.stringContaining("API") });
    const queued = await server.store.webhooks.enqueue({
      id: "evt_01JDPATCHPAUSED00000000000",
      type: "workspace.updated",
      workspaceId: "ws_patch_pause",
      createdAt: Date.now(),
      data: {},
    });
    expect(queued).toBe(0);
  });

  it("refuses private targets as creation does, unless KNIFY_WEBHOOK_ALLOW_PRIVATE=1 (400)", async () => {
    const created = await call(strict.url, "POST", "/webhook-endpoints", {
      key: strict.adminKey,
      body: { url: "https://93.184.215.14/hook", workspace_id: "ws_ssrf_patch" },
    });
    expect(created.status).toBe(200);
    for (const url of [
      "http://127.0.0.1:9/hook",
      "http://169.254.169.254/latest/meta-data",
      "https://u:p@93.184.215.14/",
    ]) {
      const res = await call(strict.url, "PATCH", `/webhook-endpoints/${created.body.id}`, {
        key: strict.adminKey,
        body: { url },
      });
      expect(res.status, url).toBe(400);
      expect(res.body.errors[0].path).toBe("/url");
    }
    const unchanged = await call(strict.url, "GET", `/webhook-endpoints/${created.body.id}`, { key: strict.adminKey });
    expect(unchanged.body.url).toBe("https://93.184.215.14/hook");
  });

  it("needs workspaces:write, answers 404 across workspaces, and refuses an empty body", async () => {
    const { id } = await endpoint("/guarded", "ws_patch_guard");
    const reader = await server.key({ permissions: ["workspaces:read"], workspaceId: "ws_patch_guard" });
    const denied = await call(server.url, "PATCH", `/webhook-endpoints/${id}`, {
      key: reader.apiKey,
      body: { enabled: false },
    });
    expect(denied.status).toBe(403);
    const stranger = await server.key({ permissions: ["workspaces:write"], workspaceId: "ws_patch_other" });
    const hidden = await call(server.url, "PATCH", `/webhook-endpoints/${id}`, {
      key: stranger.apiKey,
      body: { enabled: false },
    });
    expect(hidden.status).toBe(404);
    expect((await api("PATCH", `/webhook-endpoints/${id}`, {})).status).toBe(400);
    expect((await api("PATCH", `/webhook-endpoints/${id}`, { secret: "whsec_x" })).status).toBe(400);
  });
});
