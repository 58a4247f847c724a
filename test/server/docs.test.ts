import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PUBLIC_DIR } from "../../server/src/site/public-dir.js";
import { isSitePath } from "../../server/src/site/site.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { buildTestSite } from "../support/site.js";

// Issue 12 items 2 and 3: the server serves /openapi.yaml, /openapi.json, the API reference (/docs) and the
// dashboard (/dashboard), built by `npm run build`, with a strict CSP and caching headers; the API's own
// answers stay as they were for non-browser clients.

const repo = join(import.meta.dirname, "..", "..");
let site: Awaited<ReturnType<typeof buildTestSite>>;
let server: TestServer;
let unbuilt: TestServer;

beforeAll(async () => {
  site = await buildTestSite();
  server = await startTestServer({ publicDir: site.dir });
  unbuilt = await startTestServer({ publicDir: join(site.dir, "missing") });
}, 60_000);
afterAll(async () => {
  await Promise.all([server?.stop(), unbuilt?.stop()]);
  site?.remove();
});

/** The `<script src>` and `<link href>` URLs of a page, and whether it has any inline script. */
function assetsOf(html: string): { scripts: string[]; styles: string[]; inlineScripts: number } {
  const tags = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  return {
    scripts: tags.map((tag) => /src="([^"]+)"/.exec(tag[1] ?? "")?.[1]).filter((src): src is string => !!src),
    styles: [...html.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1] as string),
    inlineScripts: tags.filter((tag) => !/src=/.test(tag[1] ?? "") || (tag[2] ?? "").trim() !== "").length,
  };
}

function expectSecurityHeaders(res: Response): string {
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toMatch(/script-src[^;]*(unsafe-inline|unsafe-eval|\*)/);
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  return csp;
}

describe("GET /openapi.yaml and /openapi.json", () => {
  it("serves the repo's openapi.yaml as it is, revalidated on each load (no-cache + ETag)", async () => {
    const res = await fetch(`${server.url}/openapi.yaml`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/yaml; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expectSecurityHeaders(res);
    expect(await res.text()).toBe(readFileSync(join(repo, "openapi.yaml"), "utf8"));
  });

  it("answers 304 to a matching If-None-Match, and the whole file to a stale one", async () => {
    const first = await fetch(`${server.url}/openapi.json`);
    const etag = first.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${server.url}/openapi.json`, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const stale = await fetch(`${server.url}/openapi.json`, { headers: { "If-None-Match": '"old"' } });
    expect(stale.status).toBe(200);
  });

  it("serves the same document as JSON", async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await res.json()).toEqual(parse(readFileSync(join(repo, "openapi.yaml"), "utf8")));
  });

  it("sends gzip to a client that accepts it, the same bytes once inflated", async () => {
    const { request } = await import("node:http");
    const body = await new Promise<{ encoding: string | undefined; bytes: Buffer }>((resolve, reject) => {
      request(`${server.url}/openapi.yaml`, { headers: { "Accept-Encoding": "gzip" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ encoding: res.headers["content-encoding"], bytes: Buffer.concat(chunks) }));
      })
        .on("error", reject)
        .end();
    });
    expect(body.encoding).toBe("gzip");
    expect(gunzipSync(body.bytes).toString("utf8")).toBe(readFileSync(join(repo, "openapi.yaml"), "utf8"));
  });
});

describe("GET /docs", () => {
  it("is a page with no inline script, under a CSP that allows inline style only (Scalar writes style)", async () => {
    const res = await fetch(`${server.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const csp = expectSecurityHeaders(res);
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    const html = await res.text();
    const { scripts, inlineScripts } = assetsOf(html);
    expect(inlineScripts).toBe(0);
    expect(scripts).toHaveLength(2);
    // Nothing from another origin: every script is a path on this server.
    for (const src of scripts) expect(src).toMatch(/^\/docs\/[\w-]+\.js$/);
    expect(await (await fetch(`${server.url}/docs/`)).text()).toBe(html);
  });

  it("serves its scripts (Scalar's bundle and the start script) cached for a year, as JavaScript", async () => {
    const { scripts } = assetsOf(await (await fetch(`${server.url}/docs`)).text());
    const bodies: string[] = [];
    for (const src of scripts) {
      const res = await fetch(`${server.url}${src}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expectSecurityHeaders(res);
      bodies.push(await res.text());
    }
    expect(bodies.join("\n")).toContain("@scalar/api-reference 1.46.4");
    expect(bodies.join("\n")).toContain('"url":"/openapi.json"');
  });
});

describe("GET /dashboard", () => {
  it("is a page with its own script and stylesheet, under a CSP with no inline script or style", async () => {
    const res = await fetch(`${server.url}/dashboard`);
    expect(res.status).toBe(200);
    const csp = expectSecurityHeaders(res);
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    const { scripts, styles, inlineScripts } = assetsOf(await res.text());
    expect(inlineScripts).toBe(0);
    expect(scripts).toEqual([expect.stringMatching(/^\/dashboard\/app-[A-Z0-9]{8}\.js$/)]);
    expect(styles).toEqual([expect.stringMatching(/^\/dashboard\/app-[A-Z0-9]{8}\.css$/)]);
    const script = await fetch(`${server.url}${scripts[0]}`);
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    // The SDK's browser build: no Node module is imported, and undici's and tar's code is not bundled.
    const code = await script.text();
    expect(code.includes("KnifyError")).toBe(true);
    expect(/from\s*"node:|require\("(node:)?[a-z_]+"\)|Undici|ustar/.test(code)).toBe(false);
  });

  it("answers HEAD with the headers and no body", async () => {
    const res = await fetch(`${server.url}/dashboard/`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("content-length"))).toBeGreaterThan(100);
    expect(await res.text()).toBe("");
  });
});

describe("the site's errors", () => {
  it("answers 404 for a file that is not there, with the same security headers", async () => {
    // The .gz copies are an encoding of their file, not files of their own; paths are map keys, never joined.
    const res = await fetch(`${server.url}/dashboard/index.html.gz`);
    expect(res.status).toBe(404);
    expect((await fetch(`${server.url}/docs/%2e%2e/%2e%2e/package.json`)).status).toBe(404);
    const missing = await fetch(`${server.url}/docs/nope.js`);
    expect(missing.status).toBe(404);
    expectSecurityHeaders(missing);
  });

  it("answers 405 with Allow to a method other than GET or HEAD", async () => {
    const res = await fetch(`${server.url}/docs`, { method: "POST", body: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("says how to build the site when it was not built (503), and the API still works", async () => {
    const res = await fetch(`${unbuilt.url}/docs`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("npm run build");
    const api = await fetch(`${unbuilt.url}/keys/verify`, { headers: { Authorization: `Bearer ${unbuilt.adminKey}` } });
    expect(api.status).toBe(200);
  });

  it("claims no path of the API: no operation in the spec lives under the site's paths", () => {
    const spec = parse(readFileSync(join(repo, "openapi.yaml"), "utf8")) as { paths: Record<string, unknown> };
    const paths = Object.keys(spec.paths);
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((path) => isSitePath(path) || isSitePath(`${path}/`))).toEqual([]);
  });

  it("finds the default build under server/public (what `npm run build` writes)", () => {
    expect(PUBLIC_DIR).toBe(join(repo, "server", "public/"));
  });
});

describe("the API beside the site", () => {
  it("answers JSON without the pages' headers: no CSP, no caching change", async () => {
    const ok = await fetch(`${server.url}/keys/verify`, { headers: { Authorization: `Bearer ${server.adminKey}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toMatch(/^application\/json/);
    expect(ok.headers.get("content-security-policy")).toBeNull();
    const refused = await fetch(`${server.url}/jobs`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get("content-security-policy")).toBeNull();
  });
});
