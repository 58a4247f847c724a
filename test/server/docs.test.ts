// Issue 12, items 2 and 3: the server serves its API reference (/docs), and the spec as /openapi.json and
// /openapi.yaml, with browser security headers on the pages — and the API itself answers as before.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { spec } from "../../server/src/spec.js";
import { startTestServer, type TestServer } from "../support/server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);

describe("the spec", () => {
  it("is served as JSON and as YAML, both the document the server runs on", async () => {
    const json = await get("/openapi.json");
    expect(json.status).toBe(200);
    expect(json.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await json.json()).toEqual(spec);
    const yaml = await get("/openapi.yaml");
    expect(yaml.headers.get("content-type")).toBe("application/yaml; charset=utf-8");
    expect(parse(await yaml.text())).toEqual(spec);
  });

  it("needs no key, and a HEAD has no body", async () => {
    const head = await get("/openapi.json", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });
});

describe("/docs", () => {
  it("is a page whose scripts all come from this origin, under a strict Content-Security-Policy", async () => {
    const page = await get("/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, inline] of scripts) {
      expect(attributes).toMatch(/src="\/docs\//);
      expect(inline).toBe("");
    }
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("serves the renderer's files with their types and a day's caching, and nothing else from the package", async () => {
    for (const [file, type] of [
      ["swagger-ui-bundle.js", "text/javascript; charset=utf-8"],
      ["swagger-ui.css", "text/css; charset=utf-8"],
      ["docs.js", "text/javascript; charset=utf-8"],
    ]) {
      const response = await get(`/docs/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get("content-type"), file).toBe(type);
      expect((await response.text()).length, file).toBeGreaterThan(0);
    }
    expect((await get("/docs/swagger-ui.css")).headers.get("cache-control")).toBe("public, max-age=86400");
    const other = await get("/docs/package.json");
    expect(other.status).toBe(404);
    expect(other.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect((await get("/docs/../package.json")).status).toBe(404);
  });

  it("leaves the API as it was: no page headers on API responses", async () => {
    const root = await get("/");
    expect(root.status).toBe(200);
    expect(root.headers.get("content-security-policy")).toBeNull();
    const unauthorized = await get("/jobs");
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get("content-security-policy")).toBeNull();
  });
});
