import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../server/src/auth/key-format.js";
import { ManualClock } from "../../server/src/clock.js";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

const clock = new ManualClock(Date.parse("2025-11-17T10:00:00Z"));
let server: TestServer;
const api = (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
  call(server.url, method, path, options);

beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(() => server.stop());

describe("POST /keys", () => {
  it("returns the secret once, with every permission but admin:all by default", async () => {
    const created = await api("POST", "/keys", {
      key: server.adminKey,
      body: { name: "Production API Key", workspace_id: "ws_abc123" },
    });
    expect(created.status).toBe(200);
    expect(created.body.api_key).toMatch(/^knify_live_[0-9A-Za-z]{32}_[0-9a-f]{6}$/);
    expect(created.body.permissions).toEqual([
      "jobs:create",
      "jobs:read",
      "jobs:continue",
      "jobs:cleanup",
      "workspaces:read",
      "workspaces:write",
    ]);
    expect(created.body.workspace_id).toBe("ws_abc123");
    expect(created.body.created_at).toBe("2025-11-17T10:00:00Z");
    const shown = await api("GET", `/keys/${created.body.key_id}`, { key: server.adminKey });
    expect(shown.body).not.toHaveProperty("api_key");
    expect(JSON.stringify(shown.body)).not.toContain(created.body.api_key);
    expect(shown.body.prefix).toBe(created.body.api_key.slice(0, 15));
  });

  it("gives test keys a lower default rate limit than live keys", async () => {
    const live = await api("POST", "/keys", { key: server.adminKey, body: { name: "l" } });
    // Only a test key makes test keys (issue 15, item 3); this one's own limit is no constraint here.
    const testAdmin = await server.key({ type: "test", permissions: ["admin:all"], rateLimit: 1000 });
    const test = await api("POST", "/keys", { key: testAdmin.apiKey, body: { name: "t", type: "test" } });
    expect(test.body.api_key).toMatch(/^knify_test_/);
    expect(test.body.rate_limit).toBeLessThan(live.body.rate_limit);
    expect(live.body.rate_limit).toBe(server.config.rateLimits.live);
  });

  it("refuses a workspace id under ws_preset_, which names pre-configured workspaces (400)", async () => {
    const res = await api("POST", "/keys", {
      key: server.adminKey,
      body: { name: "squatter", workspace_id: "ws_preset_e2e_tests" },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.errors).toEqual([
      { location: "body", path: "/workspace_id", message: expect.stringContaining("ws_preset_") },
    ]);
    expect(res.body.detail).toContain("pre-configured");
    // Nothing was made: the admin's list has no key of that name.
    const listed = await api("GET", "/keys?limit=100", { key: server.adminKey });
    expect(listed.body.map((k: { name: string }) => k.name)).not.toContain("squatter");
  });

  it("lists every problem of a bad body in one 400", async () => {
    const res = await api("POST", "/keys", {
      key: server.adminKey,
      body: { nam: "x", permissions: ["jobs:rea"], workspace_id: "abc" },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe("validation_failed");
    const paths = res.body.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(["/", "/nam", "/permissions/0", "/workspace_id"]);
  });

  it("refuses an expiry in the past", async () => {
    const res = await api("POST", "/keys", {
      key: server.adminKey,
      body: { name: "x", expires_at: "2020-01-01T00:00:00Z" },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe("/expires_at");
  });
});

describe("GET /keys", () => {
  it("pages newest first with a Link header until the last page", async () => {
    const names = ["p1", "p2", "p3", "p4", "p5"];
    for (const name of names)
      await api("POST", "/keys", { key: server.adminKey, body: { name, workspace_id: "ws_paging" } });
    const scoped = await server.key({ name: "scoped admin", workspaceId: "ws_paging", permissions: ["admin:all"] });
    const seen: string[] = [];
    let url: string | null = `${server.url}/keys?limit=2`;
    let pages = 0;
    while (url) {
      const res: Response = await fetch(url, { headers: { Authorization: `Bearer ${scoped.apiKey}` } });
      const items = (await res.json()) as { name: string }[];
      expect(items.length).toBeLessThanOrEqual(2);
      seen.push(...items.map((k) => k.name));
      const next = /<([^>]+)>; rel="next"/.exec(res.headers.get("link") ?? "")?.[1];
      // The link is a reference relative to the request's URL (RFC 8288 §3.2), never built from Host.
      url = next === undefined ? null : new URL(next, res.url).href;
      pages++;
    }
    expect(seen).toEqual(["scoped admin", "p5", "p4", "p3", "p2", "p1"]);
    expect(pages).toBe(3);
  });

  it("refuses a cursor it did not issue", async () => {
    const res = await api("GET", "/keys?cursor=bm9wZQ", { key: server.adminKey });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.errors).toEqual([expect.objectContaining({ location: "query", path: "cursor" })]);
    expect(res.body.request_id).toBe(res.headers.get("x-request-id"));
  });
});

describe("DELETE /keys/{key_id}", () => {
  it("revokes: the very next request with the key is a 401 like an unknown key", async () => {
    const { id, apiKey } = await server.key();
    expect((await api("GET", "/keys/verify", { key: apiKey })).status).toBe(200);
    const revoked = await api("DELETE", `/keys/${id}`, { key: server.adminKey });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toBe("2025-11-17T10:00:00Z");
    const after = await api("GET", "/keys/verify", { key: apiKey });
    const unknown = await api("GET", "/keys/verify", { key: generateApiKey("live").apiKey });
    expect(after.status).toBe(401);
    expect(unknown.status).toBe(401);
    // Unknown and revoked keys are indistinguishable from outside.
    expect(after.body.detail).toBe(unknown.body.detail);
    expect(after.headers.get("www-authenticate")).toBe(unknown.headers.get("www-authenticate"));
    expect(after.headers.get("www-authenticate")).toBe('Bearer realm="knify", error="invalid_token"');
  });

  it("is harmless twice, keeping the first revoked_at, and 404s for an unknown id", async () => {
    const { id } = await server.key({ name: "twice" });
    const first = await api("DELETE", `/keys/${id}`, { key: server.adminKey });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ key_id: id, name: "twice", revoked_at: "2025-11-17T10:00:00Z" });
    clock.advance(5 * 60_000);
    const second = await api("DELETE", `/keys/${id}`, { key: server.adminKey });
    expect(second.status).toBe(200);
    // The second revoke changes nothing: the record still says when the key really stopped working.
    expect(second.body).toEqual(first.body);
    expect((await api("GET", `/keys/${id}`, { key: server.adminKey })).body.revoked_at).toBe("2025-11-17T10:00:00Z");
    const unknown = await api("DELETE", "/keys/key_NOPE", { key: server.adminKey });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("not_found");
    expect(unknown.body.detail).toContain("key_NOPE");
  });
});

describe("GET /keys/verify", () => {
  it("describes the calling key", async () => {
    const { id, apiKey } = await server.key({
      name: "Team A Key",
      workspaceId: "ws_team_a",
      permissions: ["jobs:create", "jobs:read"],
    });
    const res = await api("GET", "/keys/verify", { key: apiKey });
    expect(res.body).toEqual({
      valid: true,
      key_id: id,
      name: "Team A Key",
      type: "live",
      workspace_id: "ws_team_a",
      permissions: ["jobs:create", "jobs:read"],
      rate_limit: server.config.rateLimits.live,
      expires_at: null,
    });
  });

  it("answers 401 for an expired key", async () => {
    const { apiKey } = await server.key({ expiresAt: clock.now() + 1000 });
    expect((await api("GET", "/keys/verify", { key: apiKey })).status).toBe(200);
    clock.advance(1000);
    expect((await api("GET", "/keys/verify", { key: apiKey })).status).toBe(401);
  });
});

describe("GET /keys/{key_id} and /usage for the key itself", () => {
  it("lets a key without admin:all read its own record and usage, and nobody else's", async () => {
    const me = await server.key({ permissions: ["jobs:read"] });
    const other = await server.key();
    expect((await api("GET", `/keys/${me.id}`, { key: me.apiKey })).status).toBe(200);
    expect((await api("GET", `/keys/${me.id}/usage`, { key: me.apiKey })).status).toBe(200);
    const denied = await api("GET", `/keys/${other.id}`, { key: me.apiKey });
    expect(denied.status).toBe(403);
    expect(denied.body.missing_permission).toBe("admin:all");
    expect((await api("DELETE", `/keys/${me.id}`, { key: me.apiKey })).status).toBe(403);
  });

  it("hides keys of other workspaces from a scoped administrator (404, not 403)", async () => {
    const scopedAdmin = await server.key({ workspaceId: "ws_one", permissions: ["admin:all"] });
    const elsewhere = await server.key({ workspaceId: "ws_two" });
    const res = await api("GET", `/keys/${elsewhere.id}`, { key: scopedAdmin.apiKey });
    expect(res.status).toBe(404);
    const create = await api("POST", "/keys", { key: scopedAdmin.apiKey, body: { name: "x", workspace_id: "ws_two" } });
    expect(create.status).toBe(404);
    const own = await api("POST", "/keys", { key: scopedAdmin.apiKey, body: { name: "x" } });
    expect(own.body.workspace_id).toBe("ws_one");
  });
});

describe("POST /keys/{key_id}/rotate", () => {
  it("issues a new secret; the old one works through the grace period, then not", async () => {
    const { id, apiKey: old } = await server.key();
    const rotated = await api("POST", `/keys/${id}/rotate`, {
      key: server.adminKey,
      body: { grace_period_seconds: 60 },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.key_id).toBe(id);
    expect(rotated.body.api_key).not.toBe(old);
    expect(rotated.body.previous_secret_expires_at).toBe(
      new Date(clock.now() + 60_000).toISOString().replace(".000", ""),
    );
    expect((await api("GET", "/keys/verify", { key: old })).status).toBe(200);
    expect((await api("GET", "/keys/verify", { key: rotated.body.api_key })).status).toBe(200);
    clock.advance(60_000);
    expect((await api("GET", "/keys/verify", { key: old })).status).toBe(401);
    expect((await api("GET", "/keys/verify", { key: rotated.body.api_key })).status).toBe(200);
  });

  it("defaults the grace period to 24 h and caps it at 7 days", async () => {
    const { id } = await server.key();
    const byDefault = await api("POST", `/keys/${id}/rotate`, { key: server.adminKey });
    expect(Date.parse(byDefault.body.previous_secret_expires_at) - clock.now()).toBe(86_400_000);
    const tooLong = await api("POST", `/keys/${id}/rotate`, {
      key: server.adminKey,
      body: { grace_period_seconds: 604_801 },
    });
    expect(tooLong.status).toBe(400);
  });

  it("refuses to rotate a revoked key", async () => {
    const { id } = await server.key();
    await api("DELETE", `/keys/${id}`, { key: server.adminKey });
    const res = await api("POST", `/keys/${id}/rotate`, { key: server.adminKey });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("key_revoked");
  });

  it("refuses to rotate an expired key with 409 key_expired (a new secret would not work either)", async () => {
    const { id, apiKey } = await server.key({ expiresAt: clock.now() + 60_000 });
    expect((await api("GET", "/keys/verify", { key: apiKey })).status).toBe(200);
    clock.advance(60_000);
    const res = await api("POST", `/keys/${id}/rotate`, { key: server.adminKey });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("key_expired");
    expect(res.body).not.toHaveProperty("api_key");
  });
});
