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
