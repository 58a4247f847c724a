import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../server/src/clock.js";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// PATCH /keys/{key_id} (issue 8, item 5) and the limits of key administration (issue 15, items 2 and 3),
// each attacked through HTTP against a real server.
const clock = new ManualClock(Date.parse("2025-11-17T10:00:00Z"));
let server: TestServer;
const api = (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
  call(server.url, method, path, options);

beforeAll(async () => {
  server = await startTestServer({ clock, env: { KNIFY_MAX_KEYS_PER_WORKSPACE: "3" } });
});
afterAll(() => server.stop());

describe("PATCH /keys/{key_id}", () => {
  it("changes name, permissions and expiry, and the very next request obeys the new permissions", async () => {
    const user = await server.key({ name: "ci", permissions: ["jobs:read"] });
    expect((await api("GET", "/jobs", { key: user.apiKey })).status).toBe(200);

    const patched = await api("PATCH", `/keys/${user.id}`, {
      key: server.adminKey,
      body: { name: "ci (workspaces)", permissions: ["workspaces:read"], expires_at: "2026-01-01T00:00:00Z" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      key_id: user.id,
      name: "ci (workspaces)",
      permissions: ["workspaces:read"],
      expires_at: "2026-01-01T00:00:00Z",
    });
    expect(patched.body).not.toHaveProperty("api_key");

    const refused = await api("GET", "/jobs", { key: user.apiKey });
    expect(refused.status).toBe(403);
    expect(refused.body.missing_permission).toBe("jobs:read");
    expect((await api("GET", "/workspaces", { key: user.apiKey })).status).toBe(200);

    const cleared = await api("PATCH", `/keys/${user.id}`, { key: server.adminKey, body: { expires_at: null } });
    expect(cleared.body).toMatchObject({ expires_at: null, name: "ci (workspaces)", permissions: ["workspaces:read"] });
  });

  it("applies a lower rate limit on the next request", async () => {
    const user = await server.key({ name: "busy", permissions: ["jobs:read"] });
    const patched = await api("PATCH", `/keys/${user.id}`, { key: server.adminKey, body: { rate_limit: 1 } });
    expect(patched.body.rate_limit).toBe(1);
    const first = await api("GET", "/jobs", { key: user.apiKey });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit")).toBe("1");
    expect((await api("GET", "/jobs", { key: user.apiKey })).status).toBe(429);
  });

  it("refuses an empty body, unknown fields and a past expiry (400)", async () => {
    const user = await server.key({ name: "x" });
    for (const body of [{}, { type: "test" }, { workspace_id: "ws_other" }, { expires_at: "2020-01-01T00:00:00Z" }]) {
      const res = await api("PATCH", `/keys/${user.id}`, { key: server.adminKey, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe("validation_failed");
    }
  });

  it("answers 409 for a revoked key and 404 for another workspace's key", async () => {
    const revoked = await server.key({ name: "gone" });
    await api("DELETE", `/keys/${revoked.id}`, { key: server.adminKey });
    const conflict = await api("PATCH", `/keys/${revoked.id}`, { key: server.adminKey, body: { name: "back" } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe("key_revoked");

    const other = await server.key({ name: "b", workspaceId: "ws_patch_b" });
    const scopedAdmin = await server.key({ workspaceId: "ws_patch_a", permissions: ["admin:all"] });
    const hidden = await api("PATCH", `/keys/${other.id}`, { key: scopedAdmin.apiKey, body: { name: "mine" } });
    expect(hidden.status).toBe(404);
  });

  it("needs admin:all, even for the key's own record", async () => {
    const user = await server.key({ name: "self", permissions: ["jobs:read"] });
    const res = await api("PATCH", `/keys/${user.id}`, { key: user.apiKey, body: { permissions: ["admin:all"] } });
    expect(res.status).toBe(403);
    expect(res.body.missing_permission).toBe("admin:all");
  });
});

describe("a key never hands out more than it holds (issue 15, item 3)", () => {
  it("a test admin cannot mint a live key, nor turn its own kind into one", async () => {
    const testAdmin = await server.key({ type: "test", permissions: ["admin:all"], workspaceId: "ws_mode" });
    const live = await api("POST", "/keys", { key: testAdmin.apiKey, body: { name: "escape", type: "live" } });
    expect(live.status).toBe(403);
    expect(live.body.code).toBe("forbidden");
    expect(live.body.detail).toContain("test keys only");

    const made = await api("POST", "/keys", { key: testAdmin.apiKey, body: { name: "default" } });
    expect(made.status).toBe(200);
    expect(made.body.api_key).toMatch(/^knify_test_/);
    expect(made.body.rate_limit).toBe(server.config.rateLimits.test);

    const liveKey = await server.key({ name: "live one", workspaceId: "ws_mode" });
    const patched = await api("PATCH", `/keys/${liveKey.id}`, { key: testAdmin.apiKey, body: { name: "mine now" } });
    expect(patched.status).toBe(403);
  });

  it("a scoped admin cannot create or raise a key above its own rate limit", async () => {
    const admin = await server.key({ permissions: ["admin:all"], workspaceId: "ws_rate", rateLimit: 50 });
    const tooFast = await api("POST", "/keys", { key: admin.apiKey, body: { name: "fast", rate_limit: 1_000_000 } });
    expect(tooFast.status).toBe(403);
    expect(tooFast.body.detail).toContain("rate_limit 1000000 is above the calling key's own 50");

    const made = await api("POST", "/keys", { key: admin.apiKey, body: { name: "default" } });
    expect(made.body.rate_limit).toBe(50);
    const raised = await api("PATCH", `/keys/${made.body.key_id}`, { key: admin.apiKey, body: { rate_limit: 51 } });
    expect(raised.status).toBe(403);
    const lowered = await api("PATCH", `/keys/${made.body.key_id}`, { key: admin.apiKey, body: { rate_limit: 10 } });
    expect(lowered.body.rate_limit).toBe(10);
  });

  it("an expiring admin cannot make or keep a key that outlives it", async () => {
    const expiresAt = Date.parse("2025-12-01T00:00:00Z");
    const admin = await server.key({ permissions: ["admin:all"], workspaceId: "ws_expiry", expiresAt });
    const forever = await api("POST", "/keys", {
      key: admin.apiKey,
      body: { name: "forever", expires_at: "2030-01-01T00:00:00Z" },
    });
    expect(forever.status).toBe(403);
    const made = await api("POST", "/keys", { key: admin.apiKey, body: { name: "bounded" } });
    expect(made.body.expires_at).toBe("2025-12-01T00:00:00Z");
    const unbounded = await api("PATCH", `/keys/${made.body.key_id}`, {
      key: admin.apiKey,
      body: { expires_at: null },
    });
    expect(unbounded.status).toBe(403);
  });

  it("caps the unrevoked keys of a workspace (KNIFY_MAX_KEYS_PER_WORKSPACE=3), each workspace on its own", async () => {
    const create = (workspace_id: string) =>
      api("POST", "/keys", { key: server.adminKey, body: { name: "n", workspace_id } });
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await create("ws_capped"));
    expect(made.map((r) => r.status)).toEqual([200, 200, 200]);
    const fourth = await create("ws_capped");
    expect(fourth.status).toBe(409);
    expect(fourth.body.code).toBe("key_limit_reached");
    expect(fourth.body.detail).toContain("KNIFY_MAX_KEYS_PER_WORKSPACE");
    expect((await create("ws_capped_other")).status).toBe(200);

    await api("DELETE", `/keys/${made[0]?.body.key_id}`, { key: server.adminKey });
    expect((await create("ws_capped")).status).toBe(200);
  });
});

describe("a rotated-out secret makes ordinary calls only (issue 15, item 2)", () => {
  it("cannot rotate its key again, mint keys or change keys; the current secret can", async () => {
    const admin = await server.key({ name: "owner", permissions: ["admin:all"], workspaceId: "ws_rotated" });
    const rotated = await api("POST", `/keys/${admin.id}/rotate`, {
      key: admin.apiKey,
      body: { grace_period_seconds: 3600 },
    });
    expect(rotated.status).toBe(200);
    const current = rotated.body.api_key as string;
    const old = admin.apiKey;

    // Ordinary calls keep working during the grace period, including reading its own record.
    expect((await api("GET", "/jobs", { key: old })).status).toBe(200);
    expect((await api("GET", "/keys/verify", { key: old })).status).toBe(200);
    expect((await api("GET", `/keys/${admin.id}`, { key: old })).status).toBe(200);

    const lockout = await api("POST", `/keys/${admin.id}/rotate`, { key: old, body: { grace_period_seconds: 0 } });
    expect(lockout.status).toBe(403);
    expect(lockout.body.detail).toContain("rotated out");
    const mint = await api("POST", "/keys", { key: old, body: { name: "backdoor" } });
    expect(mint.status).toBe(403);
    const target = await server.key({ name: "t", workspaceId: "ws_rotated" });
    expect((await api("PATCH", `/keys/${target.id}`, { key: old, body: { name: "x" } })).status).toBe(403);
    expect((await api("DELETE", `/keys/${target.id}`, { key: old })).status).toBe(403);
    expect((await api("GET", "/keys", { key: old })).status).toBe(403);

    // The owner still holds the key: its current secret administers as before.
    expect((await api("GET", "/keys/verify", { key: current })).status).toBe(200);
    expect((await api("POST", "/keys", { key: current, body: { name: "fine" } })).status).toBe(200);
  });
});
