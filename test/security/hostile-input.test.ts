import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const post = (raw: string, headers: Record<string, string>) =>
  call(server.url, "POST", "/keys", { key: server.adminKey, raw, headers });

describe("bodies a client should not send", () => {
  it("refuses a body over the limit with 413, by Content-Length or by streaming", async () => {
    const big = JSON.stringify({ name: "x".repeat(server.config.bodyLimitBytes) });
    const res = await post(big, { "Content-Type": "application/json" });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe("payload_too_large");

    // Chunked, no Content-Length: refused while streaming.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/keys`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${server.adminKey}`,
          "Content-Type": "application/json",
          "Transfer-Encoding": "chunked",
        },
      });
      req.on("response", (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 20; i++) req.write("x".repeat(100_000));
      req.end();
    });
    expect(status).toBe(413);
  });

  it("refuses non-JSON with 415 and malformed JSON with 400", async () => {
    const text = await post("name=x", { "Content-Type": "application/x-www-form-urlencoded" });
    expect(text.status).toBe(415);
    expect(text.body.code).toBe("unsupported_media_type");
    const broken = await post('{"name": "x",', { "Content-Type": "application/json" });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe("invalid_json");
    const notObject = await post("[1,2]", { "Content-Type": "application/json" });
    expect(notObject.status).toBe(400);
    expect(notObject.body.code).toBe("validation_failed");
  });

  it("never answers 500 or shows a stack trace for odd requests", async () => {
    const odd: [string, string, Record<string, string>?][] = [
      ["GET", "/keys/%E0%A4%A"],
      ["GET", "/keys/..%2f..%2fetc%2fpasswd"],
      ["GET", "/jobs?limit=abc"],
      ["GET", "/jobs?limit=100000"],
      ["GET", `/keys/${"k".repeat(5000)}`],
      ["DELETE", "/"],
      ["GET", "/keys/verify", { Authorization: `Bearer ${"x".repeat(7000)}` }],
    ];
    for (const [method, path, headers] of odd) {
      const res = await call(server.url, method, path, headers ? { headers } : { key: server.adminKey });
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
      expect(JSON.stringify(res.body)).not.toMatch(/\bat .+\.(ts|js):\d+/);
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    }
  });

  it("does not echo an unsafe X-Request-Id", async () => {
    const res = await call(server.url, "GET", "/", { headers: { "X-Request-Id": "<script>" } });
    expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]+$/);
    const kept = await call(server.url, "GET", "/", { headers: { "X-Request-Id": "trace-123.abc" } });
    expect(kept.headers.get("x-request-id")).toBe("trace-123.abc");
  });
});
