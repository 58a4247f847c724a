import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../support/chromium.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { buildTestSite } from "../support/site.js";

/**
 * Collects what Chromium reports on the pages it is given: script errors, console errors (CSP refusals among
 * them) and failed loads. A suite ends by expecting the list empty, after dropping the lines of errors it caused
 * on purpose (a 401, a 429, a refused upload).
 * @example const { problems, watch } = browserProblems(); const page = watch(await context.newPage());
 */
export function browserProblems(): { problems: string[]; watch(page: Page): Page; drop(pattern: RegExp): void } {
  const problems: string[] = [];
  return {
    problems,
    watch(page) {
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`${page.url()}: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`${page.url()}: ${error.message}`));
      page.on("requestfailed", (request) => problems.push(`${request.url()}: ${request.failure()?.errorText}`));
      return page;
    },
    drop(pattern) {
      problems.splice(0, problems.length, ...problems.filter((problem) => !pattern.test(problem)));
    },
  };
}

/** Opens the dashboard at `url` (a hash route may follow) and signs in with `key`. */
export async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** A dashboard in Chromium against a real server on loopback: one of each per test file. */
export interface Rig {
  site: { dir: string; remove(): void };
  server: TestServer;
  browser: Browser;
  context: BrowserContext;
  /** The file's main page (1280 × 900), watched. */
  page: Page;
  problems: string[];
  watch(page: Page): Page;
  drop(pattern: RegExp): void;
  /** A call to the server's API with `key` as Bearer. */
  api(path: string, key: string, init?: RequestInit): Promise<Response>;
  /** The dashboard's URL, with a hash route. */
  dashboard(hash?: string): string;
  stop(): Promise<void>;
}

/**
 * Builds the site into a temp dir, starts a server on it (`env`: its KNIFY_* settings) and Chromium.
 * @example let rig: Rig; beforeAll(async () => { rig = await startRig(); }); afterAll(() => rig?.stop());
 */
export async function startRig(env: Record<string, string> = {}): Promise<Rig> {
  const site = await buildTestSite();
  const server = await startTestServer({ publicDir: site.dir, env });
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const watched = browserProblems();
  return {
    site,
    server,
    browser,
    context,
    page: watched.watch(await context.newPage()),
    ...watched,
    api: (path, key, init = {}) =>
      fetch(`${server.url}${path}`, { ...init, headers: { Authorization: `Bearer ${key}`, ...init.headers } }),
    dashboard: (hash = "") => `${server.url}/dashboard${hash}`,
    async stop() {
      await browser.close();
      await server.stop();
      site.remove();
    },
  };
}
