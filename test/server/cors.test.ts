import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config.js";
import { startTestServer, type TestServer } from "../support/server.js";

// CORS is off by default (issue 14): a browser page on another origin cannot call the API unless
// KNIFY_CORS_ORIGINS names its origin. The browser's own enforcement is checked in test/browser/.

const app = "http://app.example.test:5173";
const other = "http://evil.example.test";

describe("CORS, off by default", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it("adds no CORS header to an API answer, whatever the Origin", async () => {
    const response = await fetch(`${server.url}/keys/verify`, {
      headers: { Authorization: `Bearer ${server.adminKey}`, Origin: app },
    });
    expect(response.status).toBe(200);
    const cors = [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));
    expect(cors).toEqual([]);
  });

  it("answers a preflight as the API answers any OPTIONS: not allowed, with no CORS header", async () => {
    const response = await fetch(`${server.url}/jobs`, {
      method: "OPTIONS",
      headers: { Origin: app, "Access-Control-Request-Method": "POST" },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("CORS for the origins KNIFY_CORS_ORIGINS names", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { KNIFY_CORS_ORIGINS: `${app}, https://other.example.test` } });
  });
  afterAll(() => server.stop());

  it("answers a listed origin's preflight with the spec's methods and request headers", async () => {
    const response = await fetch(`${server.url}/jobs`, {
      method: "OPTIONS",
      headers: {
        Origin: app,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(app);
    expect(response.headers.get("vary")).toMatch(/Origin/);
    const methods = response.headers.get("access-control-allow-methods")?.split(", ");
    expect(methods).toEqual(expect.arrayContaining(["GET", "POST", "PATCH", "DELETE"]));
    const headers = response.headers.get("access-control-allow-headers")?.toLowerCase().split(", ");
    expect(headers).toEqual(
      expect.arrayContaining(["authorization", "content-type", "idempotency-key", "last-event-id"]),
    );
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("lets a listed origin read the answer and its request id and rate-limit headers", async () => {
    const response = await fetch(`${server.url}/keys/verify`, {
      headers: { Authorization: `Bearer ${server.adminKey}`, Origin: app },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(app);
    const exposed = response.headers.get("access-control-expose-headers")?.split(", ");
    expect(exposed).toEqual(
      expect.arrayContaining(["X-Request-Id", "X-RateLimit-Remaining", "Retry-After", "Link", "Idempotent-Replayed"]),
    );
  });

  it("gives an unlisted origin nothing, and still answers non-browser clients unchanged", async () => {
    const refused = await fetch(`${server.url}/keys/verify`, {
      headers: { Authorization: `Bearer ${server.adminKey}`, Origin: other },
    });
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    expect(refused.headers.get("vary")).toMatch(/Origin/);
    const preflight = await fetch(`${server.url}/jobs`, {
      method: "OPTIONS",
      headers: { Origin: other, "Access-Control-Request-Method": "POST" },
    });
    expect(preflight.status).toBe(405);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const plain = await fetch(`${server.url}/keys/verify`, { headers: { Authorization: `Bearer ${server.adminKey}` } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("keeps CORS headers on problems, so a browser app can read a 401's detail", async () => {
    const response = await fetch(`${server.url}/jobs`, { headers: { Origin: app } });
    expect(response.status).toBe(401);
    expect(response.headers.get("access-control-allow-origin")).toBe(app);
    expect(((await response.json()) as { code: string }).code).toBe("unauthorized");
  });
});

describe("KNIFY_CORS_ORIGINS values", () => {
  it.each([
    ["https://app.example.com/", "trailing slash"],
    ["https://app.example.com/path", "a path"],
    ["app.example.com", "no scheme"],
    ["ftp://app.example.com", "not http(s)"],
    ["*, https://app.example.com", "* mixed with origins"],
  ])("refuses %s (%s) at start", (value) => {
    expect(() => loadConfig({ KNIFY_CORS_ORIGINS: value })).toThrow(/KNIFY_CORS_ORIGINS/);
  });

  it("takes * and lists of origins", () => {
    expect(loadConfig({ KNIFY_CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
    expect(loadConfig({ KNIFY_CORS_ORIGINS: " https://a.test , http://b.test:8080" }).corsOrigins).toEqual([
      "https://a.test",
      "http://b.test:8080",
    ]);
    expect(loadConfig({}).corsOrigins).toEqual([]);
  });
});

describe("KNIFY_CORS_ORIGINS=*", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { KNIFY_CORS_ORIGINS: "*" } });
  });
  afterAll(() => server.stop());

  it("allows every origin with *, and so needs no Vary", async () => {
    const response = await fetch(`${server.url}/keys/verify`, {
      headers: { Authorization: `Bearer ${server.adminKey}`, Origin: other },
    });
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("vary") ?? "").not.toMatch(/Origin/);
  });
});
