import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config.js";
import { createLogger } from "../../server/src/logger.js";
import { startServer } from "../../server/src/server.js";
import { openSqliteStore } from "../../server/src/store/sqlite/index.js";
import type { Store } from "../../server/src/store/store.js";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

describe("GET /healthz/ready", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it("answers 200 without a key while the store can serve, and is not rate limited or logged as an API call", async () => {
    const res = await call(server.url, "GET", "/healthz/ready");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ready" });
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-ratelimit-limit")).toBeNull();
    expect((await fetch(`${server.url}/healthz/ready`, { method: "HEAD" })).status).toBe(200);
  });

  it("leaves the API alone: GET / still answers, other methods on the probe path go to the API's 404/405", async () => {
    expect((await call(server.url, "GET", "/")).status).toBe(200);
    expect((await call(server.url, "POST", "/healthz/ready")).status).toBeGreaterThanOrEqual(400);
  });

  it("answers 503 while the store cannot serve, without saying more than why in general", async () => {
    const real = await openSqliteStore(":memory:");
    let reachable = true;
    // The store as a database outage leaves it: every call fails; here only readiness is asked.
    const store = Object.create(real, {
      ready: { value: async () => (reachable ? real.ready() : Promise.reject(new Error("connect ECONNREFUSED"))) },
    }) as Store;
    const dataDir = mkdtempSync(join(tmpdir(), "knify-ready-"));
    const env = { KNIFY_DATA_DIR: dataDir, KNIFY_PORT: "0" };
    const other = await startServer(loadConfig(env), createLogger("silent"), { env, store });
    try {
      expect((await call(other.url, "GET", "/healthz/ready")).status).toBe(200);
      reachable = false;
      const res = await call(other.url, "GET", "/healthz/ready");
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: "not_ready", reason: "the database is unreachable or not migrated" });
      expect(JSON.stringify(res.body)).not.toMatch(/ECONNREFUSED/);
    } finally {
      await other.close(1000);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
