// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, whose innerText() is the rendered text a person reads (textContent would include hidden text)
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium } from "../support/chromium.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { buildTestSite } from "../support/site.js";
import { browserProblems, signIn as signInAt } from "./rig.js";

// Issue 12 item 4: the dashboard and the API reference as a person uses them, in Debian's Chromium, against a
// real server serving the build of scripts/build-site.mjs. Screenshots go to test/browser/screenshots/
// (git-ignored), to be looked at.

const screenshots = join(import.meta.dirname, "screenshots");

describe.skipIf(!chromiumAvailable)("the dashboard and /docs in Chromium", () => {
  let site: Awaited<ReturnType<typeof buildTestSite>>;
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** What the browser reported: CSP refusals, failed loads and script errors fail the suite. */
  const { problems, watch, drop } = browserProblems();

  const api = (path: string, key: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, { ...init, headers: { Authorization: `Bearer ${key}`, ...init.headers } });

  const signIn = (target: Page, key: string) => signInAt(target, `${server.url}/dashboard`, key);

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    site = await buildTestSite();
    // Long enough to see a job pending and running before it completes.
    server = await startTestServer({ publicDir: site.dir, env: { KNIFY_SIMULATOR_DELAY_MS: "1500" } });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = watch(await context.newPage());
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    site?.remove();
  });

  it("takes an admin key and keeps it in memory only (nothing in storage or cookies)", async () => {
    await signIn(page, server.adminKey);
    await expect.poll(() => page.getByRole("heading", { name: "API keys" }).count()).toBe(1);
    await expect.poll(() => page.locator("tbody tr").count()).toBeGreaterThan(0);
    const stored = await page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]");
    expect(stored).toEqual([0, 0, ""]);
    expect(await context.cookies()).toEqual([]);
    await page.screenshot({ path: join(screenshots, "keys.png"), fullPage: true });
    // A reload forgets the key: the prompt again.
    await page.reload();
    await expect.poll(() => page.getByLabel("API key").count()).toBe(1);
    await signIn(page, server.adminKey);
    await expect.poll(() => page.getByRole("heading", { name: "API keys" }).count()).toBe(1);
  });

  let created: { name: string; secret: string } | undefined;

  it("creates a key and shows its secret once, which the API accepts", async () => {
    await page.getByText("Create a key").click();
    await page.getByLabel("Name", { exact: true }).fill("made-in-browser");
    await page.getByLabel("jobs:read").check();
    await page.getByRole("button", { name: "Create key" }).click();
    const secretBox = page.getByLabel("Secret", { exact: true });
    await expect.poll(() => secretBox.count()).toBe(1);
    const secret = await secretBox.inputValue();
    expect(secret).toMatch(/^knify_live_/);
    expect(await page.getByText("It is shown this once").count()).toBe(1);
    await page.screenshot({ path: join(screenshots, "key-created.png"), fullPage: true });
    const verified = await api("/keys/verify", secret);
    expect(verified.status).toBe(200);
    expect(((await verified.json()) as { name: string; permissions: string[] }).permissions).toEqual(["jobs:read"]);
    // The table lists it, without its secret.
    const row = page.locator("tbody tr", { hasText: "made-in-browser" });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.innerText()).not.toContain(secret);
    created = { name: "made-in-browser", secret };
  });

  it("revokes the key after a confirmation, and the API refuses it from then on (401)", async () => {
    if (!created) throw new Error("the previous test did not create a key");
    const row = page.locator("tbody tr", { hasText: created.name });
    await row.getByRole("button", { name: "Revoke" }).click();
    // Nothing happens until confirmed.
    expect((await api("/keys/verify", created.secret)).status).toBe(200);
    await page.getByRole("button", { name: `Yes, revoke ${created.name}` }).click();
    await expect.poll(() => row.innerText()).toContain("revoked");
    const refused = await api("/keys/verify", created.secret);
    expect(refused.status).toBe(401);
  });

  it("rotates a key: the new secret shown once, the old one working until the end of its grace", async () => {
    const old = await server.key({ name: "to-rotate", permissions: ["jobs:read"] });
    // Re-open Keys so the table lists the key made behind the page's back.
    await page.getByRole("link", { name: "Jobs" }).click();
    await page.getByRole("link", { name: "Keys" }).click();
    const row = page.locator("tbody tr", { hasText: "to-rotate" });
    await row.getByRole("button", { name: "Rotate" }).click();
    const secretBox = page.getByLabel("Secret", { exact: true });
    await expect.poll(() => secretBox.inputValue()).not.toBe("");
    const secret = await secretBox.inputValue();
    expect(secret).not.toBe(old.apiKey);
    const ends = Date.parse((await page.getByTestId("old-secret-ends").getAttribute("datetime")) ?? "");
    expect(ends).toBeGreaterThan(Date.now());
    expect((await api("/keys/verify", secret)).status).toBe(200);
    expect((await api("/keys/verify", old.apiKey)).status).toBe(200);
    // The table's usage columns come from GET /keys/{id}/usage, read when the table reloaded after the
    // rotation: the API's count now has the two verifies above on top of it.
    const usage = (await (await api(`/keys/${old.id}/usage`, server.adminKey)).json()) as { requests_today: number };
    const today = await row.locator('[data-field="requests_today"]').innerText();
    expect(Number(today)).toBe(usage.requests_today - 2);
    await page.getByRole("button", { name: "I have saved it" }).click();
  });

  it("edits a key's name, rate limit and permissions in place, as the API then reports them", async () => {
    const row = page.locator("tbody tr", { hasText: "to-rotate" });
    const keyId = (await row.getAttribute("data-key-id")) ?? "";
    await row.getByRole("button", { name: "Edit" }).click();
    const form = page.getByRole("region", { name: "Edit “to-rotate”" });
    await form.getByLabel("Name").fill("renamed");
    await form.getByLabel("Rate limit per minute").fill("7");
    await form.getByLabel("jobs:read").uncheck();
    await form.getByLabel("jobs:create").check();
    await page.screenshot({ path: join(screenshots, "key-edit.png"), fullPage: true });
    await form.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator("tbody tr", { hasText: "renamed" }).count()).toBe(1);
    const key = (await (await api(`/keys/${keyId}`, server.adminKey)).json()) as {
      name: string;
      rate_limit: number;
      permissions: string[];
    };
    expect(key).toMatchObject({ name: "renamed", rate_limit: 7, permissions: ["jobs:create"] });
  });

  it("starts a job and follows it from pending to completed through its live events", async () => {
    await page.getByRole("link", { name: "Jobs" }).click();
    await page.getByText("Start a job").click();
    await page.getByLabel("Prompt").fill("hello from the dashboard");
    await page.getByRole("button", { name: "Start job" }).click();
    await page.waitForURL(/#\/jobs\/job_/);
    const jobId = /#\/jobs\/(job_\w+)/.exec(page.url())?.[1] ?? "";
    const status = page.getByTestId("job-status");
    await expect.poll(() => status.count()).toBe(1);
    // Not finished yet when the page first shows it (the simulator takes 1.5 s).
    expect(["pending", "running"]).toContain(await status.innerText());
    await page.screenshot({ path: join(screenshots, "job-running.png"), fullPage: true });
    await expect.poll(() => status.innerText(), { timeout: 15_000 }).toBe("completed");
    const timeline = await page.getByTestId("timeline").locator(".status").allInnerTexts();
    expect(timeline).toEqual(["pending", "running", "completed"]);
    // The events came through the stream: the echoed prompt is among them, as the API has it.
    expect(await page.getByTestId("events").innerText()).toContain("hello from the dashboard");
    const job = (await (await api(`/jobs/${jobId}`, server.adminKey)).json()) as { status: string };
    expect(job.status).toBe("completed");
    await page.screenshot({ path: join(screenshots, "job-completed.png"), fullPage: true });

    // Download what the agent left: the sandbox's .tar.gz, as the API gives it.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download sandbox (.tar.gz)" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${jobId}.tar.gz`);
    const saved = join(site.dir, "..", "archive.tar.gz");
    await download.saveAs(saved);
    const bytes = readFileSync(saved);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);

    // Continue it: the page follows the second turn from the last event it saw.
    await page.getByLabel("Next prompt").fill("and a second turn");
    await page.getByRole("button", { name: "Continue job" }).click();
    await expect.poll(() => page.getByTestId("events").innerText(), { timeout: 15_000 }).toContain("and a second turn");
    await expect.poll(() => status.innerText(), { timeout: 15_000 }).toBe("completed");
    await expect.poll(() => page.getByTestId("job-turns").innerText()).toBe("turn 2");
    const seqs = (await page.getByTestId("events").locator("li > code:first-child").allInnerTexts()).map((t) =>
      Number(t.slice(1)),
    );
    // Every event once, in order: nothing repeated or lost across the two streams.
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    // Clean up, after a confirmation: the sandbox is gone, as the API says.
    await page.getByRole("button", { name: "Clean up sandbox" }).click();
    await page.getByRole("button", { name: "Yes, delete the sandbox" }).click();
    await expect.poll(() => page.getByText("(sandbox cleaned up)").count()).toBe(1);
    const cleaned = (await (await api(`/jobs/${jobId}`, server.adminKey)).json()) as { cleaned_up_at: string | null };
    expect(cleaned.cleaned_up_at).not.toBeNull();
    await page.screenshot({ path: join(screenshots, "job-cleaned.png"), fullPage: true });
    // The list shows it, and the status filter keeps it or drops it.
    await page.getByRole("link", { name: "← Jobs" }).click();
    await expect.poll(() => page.locator("tbody tr", { hasText: jobId }).count()).toBe(1);
    await page.getByLabel("Status").selectOption("failed");
    await expect.poll(() => page.locator("tbody tr", { hasText: jobId }).count()).toBe(0);
    await page.getByLabel("Status").selectOption("completed");
    await expect.poll(() => page.locator("tbody tr", { hasText: jobId }).count()).toBe(1);
    await page.screenshot({ path: join(screenshots, "jobs.png"), fullPage: true });
  });

  it("pages through the jobs 20 at a time, with Next and Previous", async () => {
    for (let i = 0; i < 21; i++) {
      const created = await api("/jobs", server.adminKey, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ spec: { job_type: "cursor_task", prompt: `paging ${i}` } }),
      });
      expect(created.ok).toBe(true);
    }
    const all = (await (await api("/jobs?limit=100", server.adminKey)).json()) as { id: string }[];
    await page.getByRole("link", { name: "Keys" }).click();
    await page.getByRole("link", { name: "Jobs" }).click();
    const ids = () => page.locator("tbody tr td:first-child code").allInnerTexts();
    await expect.poll(async () => (await ids()).length).toBe(20);
    const first = await ids();
    expect(first).toEqual(all.slice(0, 20).map((job) => job.id));
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(ids).toEqual(all.slice(20).map((job) => job.id));
    expect(await page.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Previous" }).click();
    await expect.poll(ids).toEqual(first);
  });

  it("cancels a running turn: the job ends failed with the error code cancelled", async () => {
    const created = await api("/jobs", server.adminKey, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ spec: { job_type: "cursor_task", prompt: "wait", metadata: { simulate: "hold" } } }),
    });
    expect(created.ok, await created.clone().text()).toBe(true);
    const { job_id: jobId } = (await created.json()) as { job_id: string };
    // A page of its own, opened on the job's URL: the key prompt first, then the job the hash names.
    const other = watch(await context.newPage());
    await other.goto(`${server.url}/dashboard#/jobs/${jobId}`);
    await other.getByLabel("API key").fill(server.adminKey);
    await other.getByRole("button", { name: "Sign in" }).click();
    await other.getByRole("button", { name: "Cancel turn" }).click();
    await expect.poll(() => other.getByTestId("job-status").innerText()).toBe("failed");
    await expect.poll(() => other.locator(".problem").innerText()).toContain("cancelled");
    await other.screenshot({ path: join(screenshots, "job-cancelled.png"), fullPage: true });
    await other.close();
    const job = (await (await api(`/jobs/${jobId}`, server.adminKey)).json()) as { error: { code: string } };
    expect(job.error.code).toBe("cancelled");
  });

  it("charts 30 days of requests for one key and for all keys stacked, as GET /keys/{id}/usage?days=30 gives them", async () => {
    const busy = await server.key({ name: "busy key", permissions: ["jobs:read"] });
    for (let i = 0; i < 3; i++) expect((await api("/jobs", busy.apiKey)).status).toBe(200);
    await page.getByRole("link", { name: "Usage" }).click();
    await page.getByLabel("Key", { exact: true }).selectOption(busy.id);
    await expect.poll(() => page.getByTestId("usage-one-total").innerText()).toBe("3");
    // Read the API with an admin key made now, in the store: it is in no chart, and the page's own key is idle.
    const reader = await server.key({ name: "reader", permissions: ["admin:all"] });
    const dailyOf = async (id: string) =>
      ((await (await api(`/keys/${id}/usage?days=30`, reader.apiKey)).json()) as { daily: Daily[] }).daily;
    type Daily = { date: string; requests: number };
    const busyDaily = await dailyOf(busy.id);
    expect(busyDaily).toHaveLength(30);
    expect(busyDaily.at(-1)?.requests).toBe(3);

    // One key: each day's bar, as the chart's table gives the data it drew, is the API's count for that day.
    const oneRows = await page
      .getByTestId("usage-one-table")
      .locator("tbody tr")
      .evaluateAll((rows) =>
        rows.map((row) => [
          row.getAttribute("data-day"),
          Number(row.querySelector('[data-field="total"]')?.textContent),
        ]),
      );
    expect(oneRows).toEqual(busyDaily.map((day) => [day.date, day.requests]));
    // And the canvas has bars in the key's colour (#0b57d0): today's.
    // (a string: the test's tsconfig has no DOM types; this runs in the page)
    const painted = await page.evaluate<number>(`(() => {
      const canvas = document.querySelector('[data-testid="usage-one-chart"] canvas');
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i] === 11 && pixels[i + 1] === 87 && pixels[i + 2] === 208) count++;
      }
      return count;
    })()`);
    expect(painted).toBeGreaterThan(50);

    // All keys stacked: one column per active key, each equal to that key's series; the page's own key served
    // the page's requests while it loaded, so its count may have grown since (never shrunk).
    const all = page.getByTestId("usage-all-table");
    const ids = await all
      .locator("tbody tr")
      .first()
      .locator("td[data-key-id]")
      .evaluateAll((cells) => cells.map((cell) => cell.getAttribute("data-key-id") ?? ""));
    expect(ids).toContain(busy.id);
    expect(ids).not.toContain(reader.id);
    const cells = await all
      .locator("tbody tr")
      .evaluateAll((rows) =>
        rows.map((row) => [...row.querySelectorAll("td[data-key-id]")].map((cell) => Number(cell.textContent))),
      );
    const signedIn = (await (await api("/keys/verify", server.adminKey)).json()) as { key_id: string };
    const expected = await Promise.all(ids.map(dailyOf));
    for (const [column, id] of ids.entries()) {
      const drawn = cells.map((row) => row[column] ?? -1);
      const counted = (expected[column] ?? []).map((day) => day.requests);
      if (id !== signedIn.key_id) expect(drawn, id).toEqual(counted);
      else for (const [day, n] of drawn.entries()) expect(n).toBeLessThanOrEqual(counted[day] ?? 0);
    }
    const total = Number(await page.getByTestId("usage-all-total").innerText());
    expect(total).toBe(cells.flat().reduce((sum, n) => sum + (n ?? 0), 0));
    await page.getByText("The numbers, per day").first().click();
    await page.screenshot({ path: join(screenshots, "usage.png"), fullPage: true });
  });

  it("shows a key without admin:all its own usage only (every key may read its own)", async () => {
    const own = await server.key({ name: "own usage", permissions: ["jobs:read"] });
    const other = await server.key({ name: "someone else", permissions: ["jobs:read"] });
    for (let i = 0; i < 4; i++) expect((await api("/jobs", own.apiKey)).status).toBe(200);
    expect((await api("/jobs", other.apiKey)).status).toBe(200);
    const mine = watch(await context.newPage());
    await signIn(mine, own.apiKey);
    await mine.getByRole("link", { name: "Usage" }).click();
    await expect.poll(() => mine.getByTestId("usage-one-chart").locator("canvas").count()).toBe(1);
    // One key to choose, its own; no stacked chart of every key, and no other key in the table.
    expect(await mine.getByLabel("Key", { exact: true }).locator("option").allInnerTexts()).toEqual(["own usage"]);
    expect(await mine.getByTestId("usage-all-chart").count()).toBe(0);
    expect(await mine.locator("tr[data-key-id]").evaluateAll((rows) => rows.map((r) => r.dataset.keyId))).toEqual([
      own.id,
    ]);
    // The page's own requests count too (verify, this read): at least the four, no more than the API says after.
    const shown = Number(await mine.getByTestId("usage-one-total").innerText());
    const after = (await (await api(`/keys/${own.id}/usage`, server.adminKey)).json()) as { requests_today: number };
    expect(shown).toBeGreaterThanOrEqual(4);
    expect(shown).toBeLessThanOrEqual(after.requests_today);
    await mine.close();
  });

  it("returns to the key prompt with the server's reason when the key stops working (401)", async () => {
    const doomed = await server.key({ name: "doomed", permissions: ["jobs:read"] });
    const other = watch(await context.newPage());
    await signIn(other, doomed.apiKey);
    // The first page of jobs has arrived (else the revocation could overtake it, and the 401 come early).
    await expect.poll(() => other.locator("tbody tr").count()).toBeGreaterThan(0);
    expect((await api(`/keys/${doomed.id}`, server.adminKey, { method: "DELETE" })).status).toBe(200);
    await other.getByLabel("Status").selectOption("running");
    await expect.poll(() => other.getByLabel("API key").count()).toBe(1);
    const alert = other.getByRole("alert");
    expect(await alert.innerText()).toMatch(/Unauthorized[\s\S]*Request id: req_/);
    await other.screenshot({ path: join(screenshots, "signed-out.png"), fullPage: true });
    await other.close();
    // The 401 itself was expected; the browser logs it as a failed resource load.
    drop(/401/);
  });

  it("shows when to retry after a 429", async () => {
    const limited = await server.key({ name: "limited", permissions: ["jobs:read"], rateLimit: 2 });
    const other = watch(await context.newPage());
    await signIn(other, limited.apiKey);
    await expect.poll(() => other.getByRole("heading", { name: "Jobs" }).count()).toBe(1);
    await other.getByLabel("Status").selectOption("running");
    const alert = other.getByRole("alert");
    await expect.poll(() => alert.count()).toBe(1);
    expect(await alert.innerText()).toMatch(/Too Many Requests[\s\S]*retry in \d+ s[\s\S]*req_/);
    await other.screenshot({ path: join(screenshots, "rate-limited.png"), fullPage: true });
    await other.close();
    drop(/429/);
  });

  it("fits a phone-width window: no sideways scrolling of the page, the nav still reachable", async () => {
    const phone = watch(await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage());
    await signIn(phone, server.adminKey);
    await expect.poll(() => phone.getByRole("heading", { name: "API keys" }).count()).toBe(1);
    await expect.poll(() => phone.locator("tbody tr").count()).toBeGreaterThan(0);
    const width = await phone.evaluate<number>("document.documentElement.scrollWidth");
    expect(width).toBeLessThanOrEqual(390);
    // Keyboard: the view has the focus; back from it, past Sign out, is the nav (drawn on its own row here).
    await phone.keyboard.press("Shift+Tab");
    await phone.keyboard.press("Shift+Tab");
    expect(await phone.evaluate<string>("document.activeElement?.textContent")).toBe("Usage");
    await phone.screenshot({ path: join(screenshots, "keys-phone.png"), fullPage: true });
    // A job's page too, whose title is a long id and whose events are long lines.
    const created = await api("/jobs", server.adminKey, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ spec: { job_type: "cursor_task", prompt: "on a phone" } }),
    });
    const { job_id: jobId } = (await created.json()) as { job_id: string };
    await phone.evaluate(`location.hash = "#/jobs/${jobId}"`);
    await expect.poll(() => phone.getByTestId("job-status").innerText(), { timeout: 15_000 }).toBe("completed");
    expect(await phone.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: join(screenshots, "job-phone.png"), fullPage: true });
    // The usage charts: uPlot draws at the width of their box, which follows the window.
    await phone.evaluate(`location.hash = "#/usage"`);
    await expect.poll(() => phone.getByTestId("usage-all-chart").locator("canvas").count()).toBe(1);
    expect(await phone.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: join(screenshots, "usage-phone.png"), fullPage: true });
    await phone.context().close();
  });

  it("works from the keyboard alone: sign in, change section, start a job", async () => {
    const keys = watch(await context.newPage());
    await keys.goto(`${server.url}/dashboard`);
    await keys.keyboard.press("Tab");
    await keys.keyboard.type(server.adminKey);
    await keys.keyboard.press("Enter");
    await expect.poll(() => keys.getByRole("heading", { name: "API keys" }).count()).toBe(1);
    // Tab from the top of the view: past the header's links to Jobs, then Enter.
    await keys.getByRole("link", { name: "Keys" }).focus();
    await keys.keyboard.press("Tab");
    await keys.keyboard.press("Enter");
    await expect.poll(() => keys.getByRole("heading", { name: "Jobs" }).count()).toBe(1);
    // The new view takes the focus, so the next Tab is inside it: the "Start a job" disclosure.
    // (polled: the view moves the focus in an effect after it renders, later than the heading on a busy machine)
    await expect.poll(() => keys.evaluate<string>("document.activeElement.tagName")).toBe("MAIN");
    await keys.keyboard.press("Tab");
    await keys.keyboard.press("Enter");
    await keys.keyboard.press("Tab");
    await keys.keyboard.press("Tab");
    await keys.keyboard.type("typed, not clicked");
    await keys.keyboard.press("Tab");
    await keys.keyboard.press("Enter");
    await keys.waitForURL(/#\/jobs\/job_/);
    await expect
      .poll(() => keys.getByTestId("events").innerText(), { timeout: 15_000 })
      .toContain("typed, not clicked");
    await keys.close();
  });

  it("renders the API reference at /docs, offline, with POST /jobs in it", async () => {
    const docs = watch(await context.newPage());
    const foreign: string[] = [];
    docs.on("request", (request) => {
      if (!request.url().startsWith(server.url) && !request.url().startsWith("data:")) foreign.push(request.url());
    });
    await docs.goto(`${server.url}/docs`);
    // The sidebar's Jobs group, then its operation: Scalar scrolls to it and names it by method and path.
    await docs.getByText("Jobs", { exact: true }).first().click();
    await docs.getByText("Create a job", { exact: true }).first().click();
    await docs.waitForURL(/#tag\/jobs\/POST\/jobs$/);
    await docs.getByRole("heading", { name: "Create a job" }).waitFor();
    await expect.poll(() => docs.locator("body").innerText()).toMatch(/POST\s*\/jobs\b/);
    // "Test request" targets this server, not the spec's hosted one.
    expect(await docs.locator("body").innerText()).toContain(server.url);
    await docs.screenshot({ path: join(screenshots, "docs.png") });
    expect(foreign).toEqual([]);
    await docs.close();
  });

  it("ran with no CSP refusal, script error or failed load in any page", () => {
    expect(problems).toEqual([]);
  });
});
