// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, whose innerText() is the rendered text a person reads
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable } from "../support/chromium.js";
import { type Rig, signIn, startRig } from "./rig.js";

// Issue 12: the dashboard's Workspaces (upload a .tar.gz with its progress) and Webhooks (endpoints, their
// deliveries with attempts, redeliver, test events) views, in Debian's Chromium against a real server and a
// real webhook receiver on loopback. Screenshots go to test/browser/screenshots/ (git-ignored).

const screenshots = join(import.meta.dirname, "screenshots");

// An upload throttled to 4 MiB/s and a webhook retry take seconds on a loaded 2-core machine.
describe.skipIf(!chromiumAvailable)("the dashboard's workspaces and webhooks in Chromium", { timeout: 60_000 }, () => {
  let rig: Rig;
  let receiver: Server;
  let receiverURL: string;
  let files: string;
  /** The `webhook-id` of every request the receiver got, and the statuses it answers next (then 204). */
  const received: string[] = [];
  const answers: number[] = [];
  /** The page's scroll width: more than the window's means sideways scrolling. */
  const scrollWidth = (target: Page) => target.evaluate<number>("document.documentElement.scrollWidth");

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    files = mkdtempSync(join(tmpdir(), "knify-dashboard-ws-"));
    receiver = createServer((req, res) => {
      received.push(String(req.headers["webhook-id"]));
      req.resume();
      req.on("end", () => res.writeHead(answers.shift() ?? 204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverURL = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    // Loopback receivers allowed; a failed attempt is retried after 0.3 s.
    rig = await startRig({ KNIFY_WEBHOOK_ALLOW_PRIVATE: "1", KNIFY_WEBHOOK_RETRY_SCHEDULE_MS: "300,300,300" });
  }, 90_000);

  afterAll(async () => {
    await rig?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
    rmSync(files, { recursive: true, force: true });
  });

  let workspaceId = "";

  it("uploads a .tar.gz as a workspace, showing its progress, and lists it as the API does", async () => {
    // 3 MiB of random bytes (gzip cannot shrink them) and a README, archived as the form's hint says.
    const tree = join(files, "tree");
    mkdirSync(tree);
    writeFileSync(join(tree, "README.md"), "# uploaded from the dashboard\n");
    writeFileSync(join(tree, "blob.bin"), randomBytes(3 * 1024 * 1024));
    const archive = join(files, "workspace.tar.gz");
    await promisify(execFile)("tar", ["-czf", archive, "-C", tree, "."]);

    await signIn(rig.page, rig.dashboard(), rig.server.adminKey);
    await rig.page.getByRole("link", { name: "Workspaces" }).click();
    await rig.page.getByRole("heading", { name: "Workspaces" }).waitFor();
    // Slow the upload down (DevTools' network emulation: 4 MiB/s up), so the bar has steps to show.
    const cdp = await rig.context.newCDPSession(rig.page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 4 * 1024 * 1024,
    });
    // Every value the progress bar takes, recorded in the page as it changes.
    await rig.page.evaluate(`(() => {
      window.progressSeen = [];
      new MutationObserver(() => {
        const bar = document.getElementById("upload-progress");
        if (bar && window.progressSeen.at(-1) !== bar.value) window.progressSeen.push(bar.value);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["value"] });
    })()`);
    await rig.page.getByLabel("Name", { exact: true }).fill("from-the-dashboard");
    await rig.page.getByLabel("Archive").setInputFiles(archive);
    await rig.page.getByRole("button", { name: "Upload", exact: true }).click();
    const stored = rig.page.getByRole("status").filter({ hasText: "Stored" });
    await expect.poll(() => stored.count(), { timeout: 30_000 }).toBe(1);
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    expect(await rig.page.getByTestId("upload-percent").innerText()).toBe("100%");
    const seen = await rig.page.evaluate<number[]>("window.progressSeen");
    expect(seen.at(-1)).toBe(100);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(
      seen.some((value) => value > 0 && value < 100),
      `progress values: ${seen}`,
    ).toBe(true);
    expect(await stored.innerText()).toContain("/workspaces/from-the-dashboard");

    // The API has it, with the files the table shows.
    const listed = (await (await rig.api("/workspaces", rig.server.adminKey)).json()) as {
      workspace_id: string;
      name: string;
      file_count: number;
    }[];
    const workspace = listed.find((one) => one.name === "from-the-dashboard");
    expect(workspace?.file_count).toBe(2);
    workspaceId = workspace?.workspace_id ?? "";
    const row = rig.page.locator(`tr[data-workspace-id="${workspaceId}"]`);
    await expect.poll(() => row.locator('[data-field="file_count"]').innerText()).toBe("2");
    await rig.page.screenshot({ path: join(screenshots, "workspaces.png"), fullPage: true });
  });

  it("shows the server's problem (title, detail, request id) for an archive it refuses", async () => {
    const bad = join(files, "not-an-archive.tar.gz");
    writeFileSync(bad, "this is not gzip\n");
    // What the API answers to the same upload.
    const form = new FormData();
    form.append("name", "refused");
    form.append("workspace", new Blob([readFileSync(bad)], { type: "application/gzip" }), "workspace.tar.gz");
    const refused = await rig.api("/workspaces", rig.server.adminKey, { method: "POST", body: form });
    expect(refused.status).toBe(400);
    const problem = (await refused.json()) as { title: string; detail: string };

    await rig.page.getByLabel("Name", { exact: true }).fill("refused");
    await rig.page.getByLabel("Archive").setInputFiles(bad);
    await rig.page.getByRole("button", { name: "Upload", exact: true }).click();
    const alert = rig.page.getByRole("alert");
    await expect.poll(() => alert.count()).toBe(1);
    const shown = await alert.innerText();
    expect(shown).toContain(problem.title);
    expect(shown).toContain(problem.detail);
    expect(shown).toMatch(/Request id: req_\w+/);
    await rig.page.screenshot({ path: join(screenshots, "workspace-refused.png"), fullPage: true });
    rig.drop(/status of 400/);
  });

  let endpointId = "";

  it("registers an endpoint (secret shown once), sends a test event and shows its attempts as the API has them", async () => {
    await rig.page.getByRole("link", { name: "Webhooks" }).click();
    await rig.page.getByText("Register an endpoint").click();
    await rig.page.getByLabel("URL").fill(receiverURL);
    await rig.page.getByLabel("Workspace", { exact: true }).selectOption(workspaceId);
    await rig.page.getByLabel("Description (optional)").fill("the test's receiver");
    await rig.page.getByRole("button", { name: "Register endpoint" }).click();
    const secret = rig.page.getByLabel("Secret", { exact: true });
    await expect.poll(() => secret.count()).toBe(1);
    expect(await secret.inputValue()).toMatch(/^whsec_/);
    await rig.page.getByRole("button", { name: "I have saved it" }).click();
    const row = rig.page.locator("tbody tr", { hasText: receiverURL });
    await expect.poll(() => row.count()).toBe(1);
    endpointId = (await row.getAttribute("data-endpoint-id")) ?? "";
    expect(endpointId).toMatch(/^we_/);
    await rig.page.screenshot({ path: join(screenshots, "webhooks.png"), fullPage: true });

    // The receiver fails the first attempt (503); the server retries 0.3 s later and gets 204.
    answers.push(503);
    await row.getByRole("button", { name: "Send test event" }).click();
    await rig.page.getByRole("link", { name: "see its attempts" }).click();
    await rig.page.waitForURL(new RegExp(`#/webhooks/${endpointId}$`));
    const delivery = rig.page.locator("tbody tr[data-delivery-id]");
    await expect.poll(() => delivery.count()).toBe(1);
    // The page reads the list again while the delivery is pending, so the retry shows without a reload.
    await expect
      .poll(() => delivery.locator('[data-field="status"]').innerText(), { timeout: 15_000 })
      .toBe("succeeded");
    const attempts = await delivery.locator('[data-field="attempt"]').allInnerTexts();
    const deliveries = (await (
      await rig.api(`/webhook-endpoints/${endpointId}/deliveries`, rig.server.adminKey)
    ).json()) as {
      id: string;
      event_type: string;
      event_id: string;
      attempts: { status_code: number | null }[];
    }[];
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.event_type).toBe("webhook.test");
    expect(deliveries[0]?.attempts.map((attempt) => attempt.status_code)).toEqual([503, 204]);
    expect(attempts.map((text) => /HTTP (\d+)/.exec(text)?.[1])).toEqual(["503", "204"]);
    expect(await delivery.getAttribute("data-delivery-id")).toBe(deliveries[0]?.id);
    expect(received).toEqual([deliveries[0]?.event_id, deliveries[0]?.event_id]);
    await rig.page.screenshot({ path: join(screenshots, "endpoint.png"), fullPage: true });
  });

  it("redelivers a delivery: the same event again, a third attempt", async () => {
    const delivery = rig.page.locator("tbody tr[data-delivery-id]");
    await delivery.getByRole("button", { name: /^Redeliver webhook\.test/ }).click();
    await expect.poll(() => delivery.locator('[data-field="attempt"]').count(), { timeout: 15_000 }).toBe(3);
    await expect.poll(() => delivery.locator('[data-field="status"]').innerText()).toBe("succeeded");
    const [one] = (await (
      await rig.api(`/webhook-endpoints/${endpointId}/deliveries`, rig.server.adminKey)
    ).json()) as {
      event_id: string;
      attempt_count: number;
    }[];
    expect(one?.attempt_count).toBe(3);
    expect(received).toEqual([one?.event_id, one?.event_id, one?.event_id]);
  });

  it("works from the keyboard: from the endpoint page's top, Tab to Send test event, Enter", async () => {
    await rig.page.getByRole("link", { name: "Webhooks" }).click();
    await rig.page.locator("tbody tr", { hasText: receiverURL }).getByRole("link", { name: "Deliveries" }).click();
    await expect.poll(() => rig.page.locator("tbody tr[data-delivery-id]").count()).toBe(1);
    await expect.poll(() => rig.page.evaluate<string>("document.activeElement.tagName")).toBe("MAIN");
    await rig.page.keyboard.press("Tab"); // ← Webhook endpoints
    await rig.page.keyboard.press("Tab"); // Send test event
    expect(await rig.page.evaluate<string>("document.activeElement.textContent")).toBe("Send test event");
    await rig.page.keyboard.press("Enter");
    await expect.poll(() => rig.page.locator("tbody tr[data-delivery-id]").count()).toBe(2);
    await expect
      .poll(() => rig.page.locator('tbody tr [data-field="status"]').allInnerTexts(), { timeout: 15_000 })
      .toEqual(["succeeded", "succeeded"]);
  });

  it("shows a read-only key the lists without the forms and buttons it cannot use, and a jobs key neither view", async () => {
    const reader = await rig.server.key({ name: "reader", permissions: ["workspaces:read"] });
    const other = rig.watch(await rig.context.newPage());
    await signIn(other, rig.dashboard("#/workspaces"), reader.apiKey);
    await expect.poll(() => other.locator(`tr[data-workspace-id="${workspaceId}"]`).count()).toBe(1);
    expect(await other.getByText("Upload a workspace").count()).toBe(0);
    await other.getByRole("link", { name: "Webhooks" }).click();
    await expect.poll(() => other.locator(`tr[data-endpoint-id="${endpointId}"]`).count()).toBe(1);
    expect(await other.getByText("Register an endpoint").count()).toBe(0);
    expect(await other.getByRole("button", { name: "Send test event" }).count()).toBe(0);
    await other.getByRole("link", { name: "Deliveries" }).click();
    await expect.poll(() => other.locator("tbody tr[data-delivery-id]").count()).toBe(2);
    expect(await other.getByRole("button", { name: /Redeliver|Send test event/ }).count()).toBe(0);
    expect(await other.getByRole("link", { name: "Keys" }).count()).toBe(0);
    await other.close();

    const jobs = await rig.server.key({ name: "jobs only", permissions: ["jobs:read"] });
    const third = rig.watch(await rig.context.newPage());
    await signIn(third, rig.dashboard(), jobs.apiKey);
    await third.getByRole("heading", { name: "Jobs" }).waitFor();
    expect(await third.getByRole("navigation", { name: "Sections" }).innerText()).not.toMatch(/Workspaces|Webhooks/);
    await third.close();
  });

  it("fits a phone-width window: workspaces and an endpoint's deliveries, no sideways scrolling", async () => {
    const phone = rig.watch(await (await rig.browser.newContext({ viewport: { width: 390, height: 844 } })).newPage());
    await signIn(phone, rig.dashboard("#/workspaces"), rig.server.adminKey);
    await expect.poll(() => phone.locator(`tr[data-workspace-id="${workspaceId}"]`).count()).toBe(1);
    expect(await scrollWidth(phone)).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: join(screenshots, "workspaces-phone.png"), fullPage: true });
    await phone.evaluate(`location.hash = "#/webhooks/${endpointId}"`);
    await expect.poll(() => phone.locator("tbody tr[data-delivery-id]").count()).toBe(2);
    expect(await scrollWidth(phone)).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: join(screenshots, "endpoint-phone.png"), fullPage: true });
    await phone.context().close();
  });

  it("ran with no CSP refusal, script error or failed load in any page", () => {
    expect(rig.problems).toEqual([]);
  });
});
