import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../server/src/clock.js";
import { toBase64url } from "../../server/src/http/base64url.js";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 17, from the per-test mutation run of server/src/http/{admit,pagination,pipeline,read-input}.ts: the
// words of a 429 and of a refused cursor, where a header problem is said to be, the cursor's exact shape, the
// last page, which answers may not be cached, and which requests an Idempotency-Key applies to.

const clock = new ManualClock(Date.parse("2026-06-01T09:00:00Z"));
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ clock, env: { KNIFY_SIMULATOR_DELAY_MS: "0" } });
});
afterAll(() => server.stop());

const admin = (method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) =>
  call(server.url, method, path, { key: server.adminKey, ...options });

describe("a key over its rate limit", () => {
  /** Spends a fresh key's whole limit on GET /keys/verify, then returns the refused request. */
  async function refusedAfterLimit(rateLimit: number) {
    const { apiKey } = await server.key({ name: `limit ${rateLimit}`, rateLimit });
    for (let i = 0; i < rateLimit; i++) {
      expect((await call(server.url, "GET", "/keys/verify", { key: apiKey })).status).toBe(200);
    }
    return call(server.url, "GET", "/keys/verify", { key: apiKey });
  }

  it("is told its limit and the whole seconds to wait, rounded up, in the plural", async () => {
    // 7 a minute: one request every 8571.4 ms, so the next is allowed in 8.6 s, said as 9.
    const res = await refusedAfterLimit(7);
    expect(res.status).toBe(429);
    expect(res.body.code).toBe("rate_limited");
    expect(res.body.detail).toBe("The key's limit of 7 requests per minute is used up; retry in 9 seconds.");
    expect(res.headers.get("retry-after")).toBe("9");
  });

  it("is told 1 second, in the singular, when that is the wait", async () => {
    // 60 a minute: the next request is allowed in exactly 1000 ms.
    const res = await refusedAfterLimit(60);
    expect(res.status).toBe(429);
    expect(res.body.detail).toBe("The key's limit of 60 requests per minute is used up; retry in 1 second.");
    expect(res.headers.get("retry-after")).toBe("1");
  });
});

describe("a list cursor", () => {
  const cursorOf = (id: string) => toBase64url(id);

  it("this server did not issue is refused with its own detail and field error", async () => {
    for (const path of ["/keys", "/jobs", "/webhook-endpoints"]) {
      const res = await admin("GET", `${path}?cursor=${cursorOf("nope")}`);
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.body.code).toBe("validation_failed");
      expect(res.body.detail).toBe("The cursor is not one this server issued; start again without it.");
      expect(res.body.errors).toEqual([{ location: "query", path: "cursor", message: "is not a valid cursor" }]);
    }
  });

  it("is an id exactly: nothing before or after it, a lowercase prefix, at most 64 characters after the _", async () => {
    const refused = [
      "!key_abc",
      "key_abc!",
      " key_abc",
      "key_abc\n",
      "KEY_abc",
      "key_",
      `key_${"a".repeat(65)}`,
      "_abc",
    ];
    for (const id of refused) {
      const res = await admin("GET", `/keys?cursor=${cursorOf(id)}`);
      expect([id, res.status, res.body.errors?.[0]?.message]).toEqual([id, 400, "is not a valid cursor"]);
    }
    const accepted = ["key_abc", "k_a", "webhook_Z9", `key_${"a".repeat(64)}`];
    for (const id of accepted) {
      const res = await admin("GET", `/keys?cursor=${cursorOf(id)}`);
      expect([id, res.status]).toEqual([id, 200]);
    }
  });

  it("that is empty is refused by the spec's minLength before it is decoded", async () => {
    const res = await admin("GET", "/keys?cursor=");
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { location: "query", path: "cursor", message: "must NOT have fewer than 1 characters" },
      { location: "query", path: "cursor", message: 'must match pattern "^[A-Za-z0-9_-]+$"' },
    ]);
  });
});

describe("pages", () => {
  it("link the next page with a relative reference while more are left, and the last page links nothing", async () => {
    const workspace = `ws_pages${Date.now().toString(36)}`;
    for (let i = 0; i < 3; i++) await server.key({ name: `paged ${i}`, workspaceId: workspace });
    // Every key of the server, then one page smaller and one page larger than that.
    const all = await admin("GET", "/keys?limit=100");
    const count = all.body.length;
    expect(count).toBeGreaterThanOrEqual(4);
    expect(all.headers.get("link")).toBeNull();

    const exact = await admin("GET", `/keys?limit=${count}`);
    expect(exact.body).toHaveLength(count);
    expect(exact.headers.get("link")).toBeNull();

    const first = await admin("GET", `/keys?limit=${count - 1}`);
    expect(first.body).toHaveLength(count - 1);
    const link = first.headers.get("link");
    const lastId = first.body.at(-1).key_id as string;
    expect(link).toBe(`</keys?limit=${count - 1}&cursor=${toBase64url(lastId)}>; rel="next"`);
    const rest = await admin("GET", `/keys?limit=${count - 1}&cursor=${toBase64url(lastId)}`);
    expect(rest.body).toHaveLength(1);
    expect(rest.headers.get("link")).toBeNull();
  });
});

describe("a query parameter given twice", () => {
  it("is refused as a list where the spec wants one value, not read as its first value", async () => {
    const res = await admin("GET", "/keys?limit=1&limit=2");
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ location: "query", path: "limit", message: "must be integer" }]);
  });
});

describe("a header that breaks the spec", () => {
  it("is reported at location header, by its lowercase name", async () => {
    const res = await admin("POST", "/jobs", {
      body: { spec: { job_type: "cursor_task", prompt: "header" } },
      headers: { "Idempotency-Key": "has a space" },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { location: "header", path: "idempotency-key", message: expect.stringContaining("pattern") },
    ]);
    expect(res.body.detail).toMatch(/^The request has 1 problem: header idempotency-key /);
  });
});

describe("Cache-Control: no-store", () => {
  it("is on every answer that carries a secret, and on no other", async () => {
    const created = await admin("POST", "/keys", { body: { name: "cached?", permissions: ["jobs:read"] } });
    expect(created.status).toBe(200);
    expect(created.body.api_key).toEqual(expect.any(String));
    expect(created.headers.get("cache-control")).toBe("no-store");

    const id = created.body.key_id as string;
    const rotated = await admin("POST", `/keys/${id}/rotate`, { body: {} });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get("cache-control")).toBe("no-store");

    for (const path of ["/keys", `/keys/${id}`, `/keys/${id}/usage`, "/keys/verify", "/jobs", "/webhook-endpoints"]) {
      const res = await admin("GET", path);
      expect([path, res.status, res.headers.get("cache-control")]).toEqual([path, 200, null]);
    }
    const patched = await admin("PATCH", `/keys/${id}`, { body: { name: "renamed" } });
    expect([patched.status, patched.headers.get("cache-control")]).toEqual([200, null]);
    const job = await admin("POST", "/jobs", { body: { spec: { job_type: "cursor_task", prompt: "no secret" } } });
    expect([job.status, job.headers.get("cache-control")]).toEqual([200, null]);
  });
});

describe("an Idempotency-Key", () => {
  it("replays a POST's answer with the JSON type and charset it was first sent with", async () => {
    const send = () =>
      admin("POST", "/jobs", {
        body: { spec: { job_type: "cursor_task", prompt: "replayed type" } },
        headers: { "Idempotency-Key": "edges-replay-type" },
      });
    const first = await send();
    const again = await send();
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(again.body.id).toBe(first.body.id);
  });

  it("is ignored on a GET: the second answer is read afresh, not replayed", async () => {
    const list = () => admin("GET", "/keys?limit=100", { headers: { "Idempotency-Key": "edges-get" } });
    const before = await list();
    const made = await server.key({ name: "made between two GETs" });
    const after = await list();
    expect(after.status).toBe(200);
    expect(after.headers.get("idempotent-replayed")).toBeNull();
    expect(after.body.map((k: { key_id: string }) => k.key_id)).toContain(made.id);
    expect(after.body).toHaveLength(before.body.length + 1);
  });

  it("is ignored on a request that needs no key", async () => {
    const health = () => call(server.url, "GET", "/", { headers: { "Idempotency-Key": "edges-health" } });
    const first = await health();
    const again = await health();
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
  });
});
