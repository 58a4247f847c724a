import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../server/src/clock.js";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

const clock = new ManualClock(Date.parse("2025-11-30T23:59:00Z"));
let server: TestServer;
const verify = (key: string) => call(server.url, "GET", "/keys/verify", { key });

beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(() => server.stop());

describe("rate limits", () => {
  it("lets exactly L of many parallel requests through, and the rest get 429 with Retry-After", async () => {
    const { apiKey } = await server.key({ rateLimit: 7 });
    const replies = await Promise.all(Array.from({ length: 40 }, () => verify(apiKey)));
    const ok = replies.filter((r) => r.status === 200);
    const limited = replies.filter((r) => r.status === 429);
    expect(ok).toHaveLength(7);
    expect(limited).toHaveLength(33);
    const sample = limited[0];
    expect(sample?.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(sample?.body.code).toBe("rate_limited");
    expect(sample?.headers.get("retry-after")).toBe(String(Math.ceil(60 / 7)));
    expect(sample?.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(sample?.headers.get("x-ratelimit-limit")).toBe("7");
    const remaining = ok.map((r) => Number(r.headers.get("x-ratelimit-remaining"))).sort();
    expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("states the reset as Unix seconds when the full limit is back", async () => {
    const { apiKey } = await server.key({ rateLimit: 60 });
    const res = await verify(apiKey);
    expect(res.headers.get("x-ratelimit-reset")).toBe(String(Math.ceil((clock.now() + 1000) / 1000)));
  });

  it("has no double burst at a window edge", async () => {
    const { apiKey } = await server.key({ rateLimit: 60 });
    clock.set(Date.parse("2025-11-30T23:59:59.900Z"));
    for (let i = 0; i < 60; i++) expect((await verify(apiKey)).status).toBe(200);
    // A fixed-window limiter would allow another 60 here, 200 ms later in a new minute.
    clock.advance(200);
    expect((await verify(apiKey)).status).toBe(429);
    clock.advance(800); // one emission interval (1 s) after the burst
    expect((await verify(apiKey)).status).toBe(200);
    expect((await verify(apiKey)).status).toBe(429);
  });

  it("does not let refused requests consume anything", async () => {
    const { apiKey } = await server.key({ rateLimit: 2 });
    expect((await verify(apiKey)).status).toBe(200);
    expect((await verify(apiKey)).status).toBe(200);
    for (let i = 0; i < 25; i++) expect((await verify(apiKey)).status).toBe(429);
    clock.advance(30_000); // one interval of a 2-per-minute limit
    expect((await verify(apiKey)).status).toBe(200);
  });
});

describe("GET /keys/{key_id}/usage", () => {
  it("counts on UTC day and month boundaries, with last_used exact on read-after-write", async () => {
    clock.set("2025-11-30T23:59:58Z");
    const { id, apiKey } = await server.key({ name: "usage" });
    const usage = async () => (await call(server.url, "GET", `/keys/${id}/usage`, { key: server.adminKey })).body;
    expect(await usage()).toEqual({
      key_id: id,
      requests_today: 0,
      requests_this_month: 0,
      rate_limit: 1000,
      last_used: null,
    });

    await verify(apiKey);
    await call(server.url, "GET", "/keys/key_doesnotexist", { key: apiKey }); // 403 counts: it authenticated and was admitted
    await call(server.url, "GET", "/keys/verify", { key: `${apiKey.slice(0, -1)}${apiKey.endsWith("0") ? "1" : "0"}` }); // 401 never counts
    expect(await usage()).toMatchObject({
      requests_today: 2,
      requests_this_month: 2,
      last_used: "2025-11-30T23:59:58Z",
    });

    clock.set("2025-12-01T00:00:00Z");
    await verify(apiKey);
    expect(await usage()).toMatchObject({
      requests_today: 1,
      requests_this_month: 1,
      last_used: "2025-12-01T00:00:00Z",
    });

    clock.set("2025-12-02T08:00:00Z");
    await verify(apiKey);
    await verify(apiKey);
    expect(await usage()).toMatchObject({ requests_today: 2, requests_this_month: 3 });
  });

  it("does not count 429s", async () => {
    const { id, apiKey } = await server.key({ rateLimit: 1 });
    await verify(apiKey);
    await verify(apiKey);
    await verify(apiKey);
    const res = await call(server.url, "GET", `/keys/${id}/usage`, { key: server.adminKey });
    expect(res.body.requests_today).toBe(1);
  });
});
