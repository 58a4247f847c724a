import { existsSync, readFileSync } from "node:fs";
import { KnifyClient } from "@knify/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 15, item 1: the SDK sends an Idempotency-Key with every POST, and the idempotency cache kept the
// whole first response — so every key and webhook secret made through the SDK rested in clear in SQLite.
let server: TestServer;
let client: KnifyClient;

beforeAll(async () => {
  server = await startTestServer({ env: { KNIFY_WEBHOOK_ALLOW_PRIVATE: "1" } });
  client = new KnifyClient(server.adminKey, { baseURL: server.url, maxRetries: 0 });
});
afterAll(() => server.stop());

/** The database file, its WAL and its shared-memory index, as bytes (each that exists). */
function databaseBytes(): Buffer[] {
  const path = server.config.databasePath;
  return [path, `${path}-wal`, `${path}-shm`].filter((f) => existsSync(f)).map((f) => readFileSync(f));
}

/** The secrets (or any 12-character run of them) that appear in the database files. */
function secretsAtRest(secrets: string[]): string[] {
  const files = databaseBytes();
  expect(files.length).toBeGreaterThanOrEqual(2);
  return secrets.filter((secret) => {
    // The random part alone too: a secret stored without its prefix is just as readable.
    const random = secret.replace(/^(knify_(live|test)_|whsec_)/, "").slice(0, 12);
    return files.some((bytes) => bytes.includes(secret) || bytes.includes(random));
  });
}

describe("secrets made through the SDK (with its automatic Idempotency-Key)", () => {
  it("leave no key or webhook secret in clear in the database, its WAL or its shm", async () => {
    const secrets: string[] = [];
    // A key makes keys of its own type only (issue 15, item 3): the test key comes from a test admin.
    const testAdmin = await server.key({ type: "test", permissions: ["admin:all"], rateLimit: 1000 });
    const testClient = new KnifyClient(testAdmin.apiKey, { baseURL: server.url, maxRetries: 0 });
    for (const [name, admin] of [
      ["at-rest live", client],
      ["at-rest test", testClient],
    ] as const) {
      const created = await admin.keys.create({ name });
      secrets.push(created.api_key);
      const rotated = await admin.keys.rotate(created.key_id, { grace_period_seconds: 0 });
      secrets.push(rotated.api_key);
    }
    for (const path of ["/a", "/b"]) {
      const endpoint = await client.webhookEndpoints.create({
        url: `http://127.0.0.1:9${path}`,
        workspace_id: "ws_at_rest",
      });
      secrets.push(endpoint.secret);
    }
    expect(secrets).toHaveLength(6);
    expect(secretsAtRest(secrets)).toEqual([]);
  });

  it("never shows a secret twice: a replay answers 409 secret_already_shown with the object's id", async () => {
    const idempotencyKey = "replay-create-key";
    const first = await client.keys.create({ name: "once" }, { idempotencyKey });
    const replay = await client.keys.create({ name: "once" }, { idempotencyKey }).catch((error: unknown) => error);
    expect(replay).toMatchObject({ status: 409, code: "secret_already_shown" });
    const problem = (replay as { problem: Record<string, unknown> }).problem;
    expect(problem.resource_id).toBe(first.key_id);
    expect(JSON.stringify(problem)).not.toContain(first.api_key);
    expect(String(problem.detail)).toContain(`/keys/${first.key_id}/rotate`);
    // The first request is not run again: still one key of that name.
    const named: string[] = [];
    // Iterating follows the relative Link of every page.
    for await (const key of client.keys.list({ limit: 2 })) if (key.name === "once") named.push(key.key_id);
    expect(named).toEqual([first.key_id]);

    const rotated = await client.keys.rotate(first.key_id, {}, { idempotencyKey: "replay-rotate" });
    const again = await client.keys
      .rotate(first.key_id, {}, { idempotencyKey: "replay-rotate" })
      .catch((error: unknown) => error);
    expect(again).toMatchObject({ status: 409, code: "secret_already_shown" });
    expect(JSON.stringify((again as { problem: unknown }).problem)).not.toContain(rotated.api_key);
    // The rotated secret still works: the replay did not rotate again.
    expect((await call(server.url, "GET", "/keys/verify", { key: rotated.api_key })).status).toBe(200);

    const hook = { url: "http://127.0.0.1:9/replay", workspace_id: "ws_at_rest" };
    const endpoint = await client.webhookEndpoints.create(hook, { idempotencyKey: "replay-hook" });
    const hookAgain = await client.webhookEndpoints
      .create(hook, { idempotencyKey: "replay-hook" })
      .catch((error: unknown) => error);
    expect(hookAgain).toMatchObject({ status: 409, code: "secret_already_shown" });
    expect((hookAgain as { problem: Record<string, unknown> }).problem.resource_id).toBe(endpoint.id);
    expect(JSON.stringify((hookAgain as { problem: unknown }).problem)).not.toContain(endpoint.secret);
  });

  it("still replays responses without secrets", async () => {
    const body = { spec: { job_type: "cursor_task", prompt: "replay me" } };
    const headers = { "Idempotency-Key": "replay-job" };
    const first = await call(server.url, "POST", "/jobs", { key: server.adminKey, body, headers });
    const again = await call(server.url, "POST", "/jobs", { key: server.adminKey, body, headers });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.job_id).toBe(first.body.job_id);
  });
});

describe("Cache-Control and X-Content-Type-Options", () => {
  it("marks every response carrying a secret no-store, and only those", async () => {
    const created = await call(server.url, "POST", "/keys", { key: server.adminKey, body: { name: "no-store" } });
    expect(created.headers.get("cache-control")).toBe("no-store");
    const rotated = await call(server.url, "POST", `/keys/${created.body.key_id}/rotate`, {
      key: server.adminKey,
      body: {},
    });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get("cache-control")).toBe("no-store");
    const endpoint = await call(server.url, "POST", "/webhook-endpoints", {
      key: server.adminKey,
      body: { url: "http://127.0.0.1:9/no-store", workspace_id: "ws_at_rest" },
    });
    expect(endpoint.status).toBe(200);
    expect(endpoint.headers.get("cache-control")).toBe("no-store");
    const got = await call(server.url, "GET", `/keys/${created.body.key_id}`, { key: server.adminKey });
    expect(got.headers.get("cache-control")).toBeNull();
  });

  it("sends nosniff on every response: success, problem, unknown path and health", async () => {
    const replies = [
      await call(server.url, "GET", "/"),
      await call(server.url, "GET", "/keys", { key: server.adminKey }),
      await call(server.url, "GET", "/keys"),
      await call(server.url, "GET", "/no/such/path"),
    ];
    expect(replies.map((r) => r.status)).toEqual([200, 200, 401, 404]);
    for (const reply of replies) expect(reply.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
