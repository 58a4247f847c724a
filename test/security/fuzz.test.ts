import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operations } from "../../server/src/generated/operations.js";
import { startTestServer, type TestServer } from "../support/server.js";

// A small, seeded fuzz over every operation of the spec: odd path parameters, query values, bodies and
// content types, sent with a valid admin key so that they get past authentication. Whatever arrives, the
// answer is never a 5xx, and every error is problem+json with a request id.
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { KNIFY_RATE_LIMIT_LIVE: "100000" } });
});
afterAll(() => server.stop());

function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  "",
  "x",
  "job_",
  "key_A",
  "ws_-",
  "../../etc/passwd",
  "%00",
  "%ZZ",
  "a".repeat(3000),
  "🚀",
  "null",
  "0",
  "-1",
];
const VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  "",
  "x",
  [],
  {},
  [1, "a"],
  { spec: null },
  { spec: { job_type: 7 } },
];
const BODIES = [
  "",
  "{",
  "[]",
  "null",
  '"str"',
  '{"spec":{"job_type":"cursor_task","prompt":"x","extra":1}}',
  '{"name":"\\u0000"}',
  '{"url":"javascript:alert(1)"}',
  '{"__proto__":{"admin":true},"name":"p"}',
  JSON.stringify({
    spec: {
      job_type: "user_exam",
      user_id: "u",
      time_range: { from: "2025-02-01T00:00:00Z", to: "2025-01-01T00:00:00Z" },
    },
  }),
];
const TYPES = [
  "application/json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "multipart/form-data; boundary=x",
  "",
];

describe("fuzzed requests to every operation", () => {
  it.each(operations.map((op) => [`${op.method} ${op.path}`, op] as const))("%s never answers 5xx", async (_, op) => {
    const random = prng([...op.operationId].reduce((h, c) => h * 31 + c.charCodeAt(0), 7));
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    for (let i = 0; i < 12; i++) {
      const path = op.path.replace(/\{\w+\}/g, () => encodeURIComponent(pick(STRINGS)).replace(/%25/g, "%"));
      const query = new URLSearchParams();
      for (const name of ["limit", "cursor", "status", "after"])
        if (random() < 0.4) query.set(name, String(pick(VALUES)));
      const headers: Record<string, string> = { Authorization: `Bearer ${server.adminKey}` };
      const type = pick(TYPES);
      if (type) headers["Content-Type"] = type;
      if (random() < 0.3) headers["Idempotency-Key"] = pick(["k", "", " ", "é", "a".repeat(300)]);
      if (random() < 0.2) headers["Last-Event-ID"] = pick(["1", "-1", "x", "99999999999999999999"]);
      const method = op.method;
      const body =
        method === "GET" || method === "DELETE"
          ? undefined
          : random() < 0.5
            ? pick(BODIES)
            : JSON.stringify(pick(VALUES));
      const res = await fetch(`${server.url}${path}${query.size ? `?${query}` : ""}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(5000),
      });
      const text = res.headers.get("content-type")?.startsWith("text/event-stream") ? "" : await res.text();
      const where = `${method} ${path}?${query} (${type}) ${body?.slice(0, 80)}`;
      expect(res.status, where).toBeLessThan(500);
      expect(res.headers.get("x-request-id"), where).toBeTruthy();
      if (res.status >= 400) {
        expect(res.headers.get("content-type"), where).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(text).code, where).toEqual(expect.any(String));
      }
    }
  });
});
