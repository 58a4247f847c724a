import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../server/src/clock.js";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 17: "429s are not counted" had one guard. Usage is what a customer is billed on, so a refused
// request must leave every usage figure alone: today's and this month's counts, and last_used.

const clock = new ManualClock(Date.parse("2026-07-15T08:00:00Z"));
let server: TestServer;
const verify = (apiKey: string) => call(server.url, "GET", "/keys/verify", { key: apiKey });
const usage = async (id: string) => (await call(server.url, "GET", `/keys/${id}/usage`, { key: server.adminKey })).body;

beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(() => server.stop());

describe("GET /keys/{key_id}/usage after refused requests", () => {
  it("counts only the admitted requests of a parallel burst, today and this month", async () => {
    const { id, apiKey } = await server.key({ rateLimit: 3 });
    const replies = await Promise.all(Array.from({ length: 12 }, () => verify(apiKey)));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(3);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(9);
    expect(await usage(id)).toMatchObject({ requests_today: 3, requests_this_month: 3, rate_limit: 3 });
  });

  it("keeps last_used at the last admitted request, not a later refused one", async () => {
    const { id, apiKey } = await server.key({ rateLimit: 1 });
    const admittedAt = clock.now();
    expect((await verify(apiKey)).status).toBe(200);
    clock.advance(5_000);
    const refused = await verify(apiKey);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe("rate_limited");
    expect(await usage(id)).toMatchObject({
      requests_today: 1,
      requests_this_month: 1,
      last_used: new Date(admittedAt).toISOString().replace(".000", ""),
    });
  });

  it("does not let refused requests push back the next admission", async () => {
    const { id, apiKey } = await server.key({ rateLimit: 2 });
    expect((await verify(apiKey)).status).toBe(200);
    expect((await verify(apiKey)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await verify(apiKey)).status).toBe(429);
    clock.advance(29_999);
    expect((await verify(apiKey)).status).toBe(429);
    clock.advance(1); // one emission interval (30 s) after the first request
    expect((await verify(apiKey)).status).toBe(200);
    expect((await usage(id)).requests_today).toBe(3);
  });
});

// Issue 12: the dashboard's chart reads `daily`; the seed's five fields stay exactly as they were.
describe("GET /keys/{key_id}/usage?days=N", () => {
  const at = (iso: string) => clock.set(Date.parse(iso));

  it("without days keeps exactly the seed's five fields", async () => {
    const { id } = await server.key();
    expect(Object.keys(await usage(id)).sort()).toEqual(
      ["key_id", "last_used", "rate_limit", "requests_this_month", "requests_today"].sort(),
    );
  });

  it("adds one point per UTC day ending today, oldest first, with 0 for a quiet day", async () => {
    const { id, apiKey } = await server.key({ rateLimit: 1000 });
    at("2026-08-01T23:59:00Z");
    await verify(apiKey);
    at("2026-08-03T00:00:00Z");
    await verify(apiKey);
    await verify(apiKey);
    const reply = await call(server.url, "GET", `/keys/${id}/usage?days=4`, { key: server.adminKey });
    expect(reply.status).toBe(200);
    expect(reply.body.daily).toEqual([
      { date: "2026-07-31", requests: 0 },
      { date: "2026-08-01", requests: 1 },
      { date: "2026-08-02", requests: 0 },
      { date: "2026-08-03", requests: 2 },
    ]);
    expect(reply.body.requests_today).toBe(2);
    expect(reply.body.requests_this_month).toBe(3);
  });

  it("lets a key read its own series, counting the request that asks", async () => {
    const { id, apiKey } = await server.key({ permissions: ["jobs:read"] });
    const reply = await call(server.url, "GET", `/keys/${id}/usage?days=1`, { key: apiKey });
    expect(reply.status).toBe(200);
    expect(reply.body.daily).toEqual([{ date: reply.body.daily[0].date, requests: 1 }]);
  });

  it.each(["0", "91", "abc", "1.5"])("refuses days=%s with a 400 problem naming the parameter", async (days) => {
    const { id } = await server.key();
    const reply = await call(server.url, "GET", `/keys/${id}/usage?days=${days}`, { key: server.adminKey });
    expect(reply.status).toBe(400);
    expect(reply.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(reply.body)).toMatch(/days/);
  });
});
