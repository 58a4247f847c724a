import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { operations } from "../../server/src/generated/operations.js";
import { rawTarGz } from "../fixtures/archives/raw-tar.js";
import { call } from "../support/http.js";
import { type Hit, startReceiver } from "../support/receiver.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 17: a 404 for another tenant's object must also mean that nothing happened to it. Every operation
// that changes an object named in its path is called by an administrator of another workspace; each answer
// must be 404, and the victim's key, job, workspace, webhook endpoint and deliveries must read exactly as
// before, with no extra request at the victim's real loopback receiver.

let server: TestServer;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const victim: Record<string, string> = {};
let victimKey = "";
let attackerKey = "";
let attackerEndpoint = "";

const admin = (method: string, path: string) => call(server.url, method, path, { key: server.adminKey });
const archive = (text: string) => rawTarGz([{ path: "proj/README.md", data: text }]);

async function upload(method: "POST" | "PUT", path: string, apiKey: string, text: string) {
  const form = new FormData();
  if (method === "POST") form.set("name", "victim-ws");
  form.set("workspace", new Blob([archive(text)]), "ws.tar.gz");
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${apiKey}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** Everything the victim's objects show, read by the unscoped administrator (so the victim's key stays unused). */
async function snapshot() {
  const reads = [
    `/keys/${victim.key_id}`,
    `/jobs/${victim.job_id}`,
    `/jobs/${victim.job_id}/events?limit=100`,
    `/jobs/${victim.job_id}/changes`,
    `/workspaces/${victim.workspace_id}`,
    `/webhook-endpoints/${victim.endpoint_id}`,
    `/webhook-endpoints/${victim.endpoint_id}/deliveries`,
  ];
  const replies = await Promise.all(reads.map((path) => admin("GET", path)));
  return Object.fromEntries(reads.map((path, i) => [path, { status: replies[i]?.status, body: replies[i]?.body }]));
}

const hitsAtVictim = (): Hit[] => receiver.hits.filter((h) => h.path === "/victim");

/** Waits until no delivery of the victim's endpoint is pending, so the receiver has seen all it will see. */
async function deliveriesSettled() {
  await vi.waitFor(
    async () => {
      const list = (await admin("GET", `/webhook-endpoints/${victim.endpoint_id}/deliveries`)).body;
      expect(list.filter((d: { status: string }) => d.status === "pending")).toEqual([]);
    },
    { timeout: 10_000, interval: 20 },
  );
}

beforeAll(async () => {
  receiver = await startReceiver();
  server = await startTestServer({
    env: {
      KNIFY_WEBHOOK_ALLOW_PRIVATE: "1",
      KNIFY_WEBHOOK_POLL_INTERVAL_MS: "20",
      KNIFY_SIMULATOR_DELAY_MS: "0",
      KNIFY_RATE_LIMIT_LIVE: "100000",
    },
  });
  const a = await server.key({ name: "victim", workspaceId: "ws_victim", permissions: ["admin:all"] });
  victimKey = a.apiKey;
  victim.key_id = a.id;
  const ws = await upload("POST", "/workspaces", a.apiKey, "victim's file\n");
  expect(ws.status).toBe(200);
  victim.workspace_id = ws.body.workspace_id ?? "";
  const job = await call(server.url, "POST", "/jobs", {
    key: a.apiKey,
    body: { spec: { job_type: "cursor_task", prompt: "victim's job", workspace_path: ws.body.path } },
  });
  expect(job.status).toBe(200);
  victim.job_id = job.body.job_id;
  await vi.waitFor(async () => expect((await admin("GET", `/jobs/${victim.job_id}`)).body.status).toBe("completed"), {
    timeout: 10_000,
    interval: 20,
  });
  const endpoint = await call(server.url, "POST", "/webhook-endpoints", {
    key: a.apiKey,
    body: { url: `${receiver.url}/victim`, event_types: ["webhook.test"] },
  });
  expect(endpoint.status).toBe(200);
  victim.endpoint_id = endpoint.body.id;
  const delivery = await call(server.url, "POST", `/webhook-endpoints/${victim.endpoint_id}/test`, { key: a.apiKey });
  victim.delivery_id = delivery.body.id;
  await vi.waitFor(() => expect(hitsAtVictim()).toHaveLength(1), { timeout: 10_000, interval: 20 });
  await deliveriesSettled();

  const b = await server.key({ name: "attacker", workspaceId: "ws_attacker", permissions: ["admin:all"] });
  attackerKey = b.apiKey;
  const own = await call(server.url, "POST", "/webhook-endpoints", {
    key: b.apiKey,
    body: { url: `${receiver.url}/attacker`, event_types: ["webhook.test"] },
  });
  attackerEndpoint = own.body.id;
}, 60_000);
afterAll(async () => {
  await server.stop();
  await receiver.stop();
});

/** Bodies that pass validation, so that each answer is about the object, not the input. */
const bodies: Record<string, unknown> = {
  continueJob: { spec: { prompt: "attacker's turn" } },
  updateKey: { name: "renamed by attacker", rate_limit: 1 },
  rotateKey: { grace_period_seconds: 0 },
  updateWebhookEndpoint: { url: `http://127.0.0.1:9/attacker`, enabled: false },
};
const changing = operations.filter((op) => op.auth && op.method !== "GET" && op.path.includes("{"));

describe("another workspace's administrator changing the victim's objects", () => {
  it.each(changing.map((op) => [`${op.method} ${op.path}`, op] as const))(
    "%s: 404 and nothing changes",
    async (_, op) => {
      const before = await snapshot();
      const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => victim[name] ?? `missing fixture ${name}`);
      const res =
        op.operationId === "replaceWorkspace"
          ? await upload("PUT", path, attackerKey, "attacker's file\n")
          : await call(server.url, op.method, path, {
              key: attackerKey,
              ...(op.body === "json" ? { body: bodies[op.operationId] ?? {} } : {}),
            });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("not_found");
      expect(await snapshot()).toEqual(before);
    },
  );

  it("redelivering the victim's delivery through the attacker's own endpoint: 404, nothing re-sent", async () => {
    const before = await snapshot();
    const res = await call(
      server.url,
      "POST",
      `/webhook-endpoints/${attackerEndpoint}/deliveries/${victim.delivery_id}/redeliver`,
      { key: attackerKey },
    );
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("not_found");
    expect(await snapshot()).toEqual(before);
    // A marker sent after the attempt: once it has arrived and nothing is pending, the receiver has seen
    // every request the attempt could have caused.
    const sentBefore = hitsAtVictim().length;
    const marker = await call(server.url, "POST", `/webhook-endpoints/${victim.endpoint_id}/test`, {
      key: server.adminKey,
    });
    await vi.waitFor(() => expect(hitsAtVictim().length).toBeGreaterThan(sentBefore), {
      timeout: 10_000,
      interval: 20,
    });
    await deliveriesSettled();
    const markerId = hitsAtVictim().at(-1)?.webhookId;
    expect(hitsAtVictim().slice(sentBefore)).toEqual([{ path: "/victim", webhookId: markerId }]);
    expect(marker.body.id).toBeDefined();
    expect(receiver.hits.filter((h) => h.path === "/attacker")).toEqual([]);
  });

  it("leaves the victim's key working with its own secret", async () => {
    const verified = await call(server.url, "GET", "/keys/verify", { key: victimKey });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ key_id: victim.key_id, name: "victim", workspace_id: "ws_victim" });
  });
});
