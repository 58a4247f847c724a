import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium } from "../support/chromium.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 12, items 2 and 4: the API reference at /docs, rendered in a real Chromium under the page's strict
// Content-Security-Policy, from files this server serves (the browser's network to anywhere else is refused).

const screenshots = join(import.meta.dirname, "screenshots");

describe.skipIf(!chromiumAvailable)("/docs in Chromium", () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    mkdirSync(screenshots, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows POST /jobs, with no CSP violation and no request to another origin", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    const origins = new Set<string>();
    page.on("request", (request) => origins.add(new URL(request.url()).origin));

    await page.goto(`${server.url}/docs`);
    const createJob = page.locator(".opblock-post", { hasText: "/jobs" }).filter({ hasText: "Create a job" }).first();
    await createJob.waitFor({ timeout: 15_000 });
    expect(await createJob.locator(".opblock-summary-method").textContent()).toBe("POST");
    expect(await createJob.locator(".opblock-summary-path").textContent()).toBe("/jobs");
    await page.screenshot({ path: join(screenshots, "docs.png"), fullPage: false });
    // "Try it out" goes to this server, the only origin the page's CSP lets it reach.
    expect(await page.locator(".servers select option").first().textContent()).toContain(server.url);

    await createJob.locator(".opblock-summary").click();
    await page.getByText("Request body").first().waitFor();
    await page.screenshot({ path: join(screenshots, "docs-post-jobs.png"), fullPage: false });

    expect(problems.filter((p) => /Content Security Policy|Refused/i.test(p))).toEqual([]);
    expect([...origins].filter((o) => o !== server.url && !o.startsWith("data:"))).toEqual([]);
    await page.close();
  });
});
