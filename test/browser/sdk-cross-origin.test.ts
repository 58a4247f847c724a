import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium } from "../support/chromium.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 14 item 1: the SDK's browser build, run in a real Chromium, calling a real server from a page on
// another origin. CORS is off by default (the browser refuses; the server sees no request), and
// KNIFY_CORS_ORIGINS lets that origin in, with the headers the SDK reads (request id, Retry-After).

const repo = join(import.meta.dirname, "..", "..");

/** The published package's `.` entry bundled for the browser, exposing what the page script uses. */
async function browserBundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents: 'export { KnifyClient, APIConnectionError, RateLimitError, NotFoundError } from "@knify/sdk";',
      resolveDir: repo,
      loader: "ts",
    },
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "Knify",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]?.text ?? "";
}

/** A page origin of its own: serves an empty page that loads the bundle. */
async function pageServer(bundle: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((request, response) => {
    if (request.url === "/sdk.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    } else {
      response.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><script src="/sdk.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** What a page script saw: a result, or an error's class and fields. */
type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; name: string; requestId?: string | undefined; retryAfter?: number | undefined };

async function inPage(page: Page, baseURL: string, apiKey: string, action: "create" | "get-missing"): Promise<Outcome> {
  return page.evaluate(
    async ({ baseURL, apiKey, action }) => {
      // biome-ignore lint/suspicious/noExplicitAny: the bundle's global, typed by the test's assertions
      const Knify = (globalThis as any).Knify;
      const client = new Knify.KnifyClient(apiKey, { baseURL, maxRetries: 0 });
      try {
        const value =
          action === "create"
            ? await client.jobs.create({ job_type: "cursor_task", prompt: "from a browser" })
            : await client.jobs.get("job_doesnotexist");
        return { ok: true as const, value };
      } catch (error) {
        const e = error as { name: string; requestId?: string; retryAfter?: number };
        return { ok: false as const, name: e.name, requestId: e.requestId, retryAfter: e.retryAfter };
      }
    },
    { baseURL, apiKey, action },
  );
}

describe.skipIf(!chromiumAvailable)("the SDK in Chromium, from a page on another origin", () => {
  let browser: Browser;
  let page: Page;
  let pages: { server: Server; origin: string };
  let closed: TestServer;
  let open: TestServer;

  beforeAll(async () => {
    const bundle = await browserBundle();
    expect(bundle).toContain("KnifyClient");
    // The browser build carries neither undici nor tar (the `#runtime` map gives browsers the fetch build).
    expect(bundle).not.toMatch(/from "undici"|require\("tar"\)/);
    pages = await pageServer(bundle);
    closed = await startTestServer();
    open = await startTestServer({ env: { KNIFY_CORS_ORIGINS: pages.origin } });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${pages.origin}/`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([closed?.stop(), open?.stop()]);
    pages?.server.close();
  });

  it("is refused by the browser when CORS is off (the default), and the server gets no job", async () => {
    const key = await closed.key({ name: "browser", permissions: ["jobs:create", "jobs:read"] });
    const outcome = await inPage(page, closed.url, key.apiKey, "create");
    expect(outcome).toMatchObject({ ok: false, name: "APIConnectionError" });
    // The JSON POST needs a preflight, which the server does not grant: the POST itself never arrives.
    const jobs = await fetch(`${closed.url}/jobs`, { headers: { Authorization: `Bearer ${closed.adminKey}` } });
    expect(await jobs.json()).toEqual([]);
  });

  it("works from an origin KNIFY_CORS_ORIGINS names: the job is created on the server", async () => {
    const key = await open.key({ name: "browser", permissions: ["jobs:create", "jobs:read"] });
    const outcome = await inPage(page, open.url, key.apiKey, "create");
    expect(outcome.ok).toBe(true);
    const jobId = (outcome as { value: { job_id: string } }).value.job_id;
    const job = await fetch(`${open.url}/jobs/${jobId}`, { headers: { Authorization: `Bearer ${open.adminKey}` } });
    expect(job.status).toBe(200);
    expect(((await job.json()) as { spec: { prompt: string } }).spec.prompt).toBe("from a browser");
  });

  it("lets the SDK read the exposed headers: the request id of a 404, Retry-After of a 429", async () => {
    const key = await open.key({ name: "limited", permissions: ["jobs:read"], rateLimit: 1 });
    const missing = await inPage(page, open.url, key.apiKey, "get-missing");
    expect(missing).toMatchObject({ ok: false, name: "NotFoundError" });
    expect((missing as { requestId?: string }).requestId).toMatch(/^req_/);
    const limited = await inPage(page, open.url, key.apiKey, "get-missing");
    expect(limited).toMatchObject({ ok: false, name: "RateLimitError" });
    expect((limited as { retryAfter?: number }).retryAfter).toBeGreaterThan(0);
  });
});
