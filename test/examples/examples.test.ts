import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { KnifyClient } from "@knify/sdk";
import { generateSecret, type SignedWebhookHeaders, sign, type WebhookEvent } from "@knify/sdk/webhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createWebhookReceiver } from "../../examples/webhook-receiver.js";
import { workspaceFilesDir } from "../../server/src/workspaces/paths.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Each example runs as a user runs it: a child `node --import tsx examples/X.ts` in the repo root, so
// `@knify/sdk` resolves through node_modules and the package's exports map to the built `sdk/dist`.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

let server: TestServer;
let admin: KnifyClient;
const tempDirs: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { KNIFY_WEBHOOK_ALLOW_PRIVATE: "1", KNIFY_SIMULATOR_DELAY_MS: "20" } });
  admin = new KnifyClient(server.adminKey, { baseURL: server.url, maxRetries: 0 });
});
afterAll(async () => {
  await server?.stop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function exampleEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  // Stray KNIFY_* variables of the developer's shell must not reach the example.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("KNIFY_")));
  return { ...inherited, ...env };
}

function runExample(file: string, apiKey: string, args: string[] = []): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", `examples/${file}`, ...args],
      { cwd: ROOT, env: exampleEnv({ KNIFY_API_KEY: apiKey, KNIFY_BASE_URL: server.url }), timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "knify-examples-"));
  tempDirs.push(dir);
  return dir;
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) collected.push(item);
  return collected;
}

function createdJobId(stdout: string): string {
  const id = /^Created job (job_\w+)$/m.exec(stdout)?.[1];
  expect(id, stdout).toBeDefined();
  return id as string;
}

// Each program runs in its own child process with its own key and workspace, so they run side by side.
describe.concurrent("examples run as programs", () => {
  it("resolve @knify/sdk to the built package, as users get it", async () => {
    const resolved = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", 'console.log(import.meta.resolve("@knify/sdk/webhooks"))'],
        { cwd: ROOT, env: exampleEnv({}), timeout: 15_000 },
        (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
      );
    });
    expect(resolved).toBe(pathToFileURL(join(ROOT, "sdk", "dist", "webhooks.js")).href);
  });

  describe("examples/quickstart.ts", () => {
    it("creates a job, waits for it, and prints its events in order", async () => {
      const { apiKey } = await server.key({ name: "quickstart", type: "test", workspaceId: "ws_quickstart" });
      const run = await runExample("quickstart.ts", apiKey, ["Write a haiku about sandboxes"]);

      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const jobId = createdJobId(run.stdout);
      expect(run.stdout).toMatch(new RegExp(`^Job ${jobId} completed at \\S+Z in sandbox sbx_\\w+$`, "m"));
      const events = run.stdout.split("Events:\n")[1]?.trimEnd().split("\n") ?? [];
      expect(events).toEqual([
        "  #1 status → pending",
        "  #2 turn 1: Write a haiku about sandboxes",
        "  #3 status → running",
        `  #4 stdout: simulator: turn 1 of ${jobId} (cursor_task, model auto)`,
        "  #5 stdout: prompt: Write a haiku about sandboxes",
        "  #6 stdout: simulator: done",
        "  #7 status → completed",
      ]);

      const job = await admin.jobs.get(jobId);
      expect(job).toMatchObject({ status: "completed", workspace_id: "ws_quickstart" });
      expect(job.spec.prompt).toBe("Write a haiku about sandboxes");
    });

    it("reports a failed job on stderr and exits with 1", async () => {
      const { apiKey } = await server.key({ name: "quickstart-fail", type: "test", workspaceId: "ws_quickstart_fail" });
      const run = await runExample("quickstart.ts", apiKey, ["Break it [simulate:fail]"]);

      expect(run.code).toBe(1);
      const jobId = createdJobId(run.stdout);
      expect(run.stderr.trim()).toBe(`Job ${jobId} failed: simulated failure (agent_failed).`);
      expect(run.stdout).toContain("  status: failed\n");
      expect(run.stdout).toContain("  #7 status → failed (simulated failure)\n");
    });

    it("says how to fix a missing API key", async () => {
      const run = await runExample("quickstart.ts", "");
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("No API key: set the KNIFY_API_KEY environment variable");
    });
  });

  describe("examples/multi-turn.ts", () => {
    it("runs three turns in one sandbox, prints each turn's events once, then cleans up", async () => {
      const { apiKey } = await server.key({ name: "multi-turn", type: "test", workspaceId: "ws_multi_turn" });
      const run = await runExample("multi-turn.ts", apiKey);

      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const jobId = createdJobId(run.stdout);
      for (const turn of [1, 2, 3]) {
        expect(run.stdout).toContain(`  stdout: simulator: turn ${turn} of ${jobId} (cursor_task, model auto)\n`);
      }
      // Each turn's stream starts after the last event seen: no event is printed twice.
      expect(run.stdout.match(/status → completed/g)).toHaveLength(3);
      expect(run.stdout.match(/^Turn \d: /gm)).toHaveLength(3);
      expect(run.stdout).toContain(`Job ${jobId} is completed after 3 turns`);
      expect(run.stdout).toContain(`Cleaned up job ${jobId}\nContinuing now is refused (409 job_not_continuable)\n`);

      const job = await admin.jobs.get(jobId);
      expect(job.turns).toBe(3);
      expect(job.cleaned_up_at).not.toBeNull();
      expect(job.spec.prompt).toBe("Now run the whole suite three times to make sure it is stable");
    });
  });

  describe("examples/upload-workspace.ts", () => {
    it("uploads a directory without node_modules, runs a job in it, and replaces it on a second run", async () => {
      const { apiKey } = await server.key({ name: "upload", type: "test", workspaceId: "ws_upload_example" });
      const project = tempDir();
      mkdirSync(join(project, "src"));
      mkdirSync(join(project, "node_modules", "left-pad"), { recursive: true });
      writeFileSync(join(project, "README.md"), "# Demo\n");
      writeFileSync(join(project, "src", "main.ts"), "export const answer = 42;\n");
      writeFileSync(join(project, "node_modules", "left-pad", "index.js"), "module.exports = 1;\n");

      const first = await runExample("upload-workspace.ts", apiKey, [project, "demo-project"]);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(first.stdout).toContain("Uploaded workspace ws_upload_example (demo-project)\n");
      expect(first.stdout).toContain("  path: /workspaces/demo-project\n  files: 2, 33 bytes\n");
      expect(first.stdout).toMatch(/^Job job_\w+ completed in workspace ws_upload_example$/m);

      const files = workspaceFilesDir(server.config.dataDir, "ws_upload_example");
      expect(readFileSync(join(files, "src", "main.ts"), "utf8")).toBe("export const answer = 42;\n");
      expect(existsSync(join(files, "node_modules"))).toBe(false);

      writeFileSync(join(project, "src", "extra.ts"), "export {};\n");
      const second = await runExample("upload-workspace.ts", apiKey, [project, "demo-project"]);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain("Replaced workspace ws_upload_example (demo-project)\n");
      expect(second.stdout).toContain("  files: 3, ");
      expect(existsSync(join(files, "src", "extra.ts"))).toBe(true);
      expect(await admin.workspaces.get("ws_upload_example")).toMatchObject({ name: "demo-project", file_count: 3 });
    });
  });

  describe("examples/key-admin.ts", () => {
    it("creates a scoped key, verifies it, reads usage, rotates and revokes it", async () => {
      const testAdmin = await server.key({
        name: "test admin",
        type: "test",
        permissions: ["admin:all"],
        rateLimit: 1000,
      });
      const run = await runExample("key-admin.ts", testAdmin.apiKey, ["ws_key_admin"]);

      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const keyId = /^Created key (key_\w+) \(knify_test_\w+…\) for ws_key_admin$/m.exec(run.stdout)?.[1];
      expect(keyId, run.stdout).toBeDefined();
      expect(run.stdout).toContain("  permissions: jobs:read; rate limit 100/min\n");
      expect(run.stdout).toContain(`Verified: ${keyId} is valid, test key for ws_key_admin\n`);
      expect(run.stdout).toContain("  it can list jobs: 0 in its workspace\n");
      expect(run.stdout).toMatch(/it cannot create jobs: 403 forbidden: .*jobs:create/);
      // verify + list + the refused create, all counted before usage was read.
      expect(run.stdout).toContain("Usage: 3 requests today, 3 this month\n");
      expect(run.stdout).toContain("  new secret works: true\n  old secret works during the grace period: true\n");
      expect(run.stdout).toContain(
        "  new secret is refused: 401 unauthorized\n  old secret is refused: 401 unauthorized\n",
      );

      const key = await admin.keys.get(keyId as string);
      expect(key).toMatchObject({ workspace_id: "ws_key_admin", permissions: ["jobs:read"], type: "test" });
      expect(key.revoked_at).not.toBeNull();
    });
  });
});

describe("examples/webhook-receiver.ts", () => {
  const servers: Server[] = [];
  afterAll(async () => {
    for (const each of servers) {
      each.closeAllConnections();
      await new Promise((resolve) => each.close(resolve));
    }
  });

  /** Listens on a loopback port; the handler is set later, once the endpoint (and so its secret) exists. */
  async function listen(): Promise<{
    url: string;
    use: (handler: RequestListener) => void;
    headers: IncomingHttpHeaders[];
  }> {
    let handler: RequestListener = (_req, res) => res.writeHead(503).end();
    const headers: IncomingHttpHeaders[] = [];
    const listener = createServer((req, res) => {
      headers.push(req.headers);
      handler(req, res);
    });
    servers.push(listener);
    listener.listen(0, "127.0.0.1");
    await once(listener, "listening");
    const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/webhooks/knify`;
    return { url, use: (next) => (handler = next), headers };
  }

  it("verifies a test event and a job's events delivered by the server", async () => {
    const { apiKey } = await server.key({ name: "hooks", type: "test", workspaceId: "ws_hooks" });
    const client = new KnifyClient(apiKey, { baseURL: server.url, maxRetries: 0 });
    const events: WebhookEvent[] = [];
    const log: string[] = [];
    const receiver = await listen();
    const endpoint = await client.webhookEndpoints.create({ url: receiver.url });
    const app = createWebhookReceiver({
      secret: endpoint.secret,
      onEvent: (e) => void events.push(e),
      log: (line) => void log.push(line),
    });
    receiver.use(app.callback());

    await client.webhookEndpoints.test(endpoint.id);
    await vi.waitFor(() => expect(events.map((e) => e.type)).toContain("webhook.test"), {
      timeout: 5000,
      interval: 20,
    });
    const test = events.find((e) => e.type === "webhook.test");
    expect(test?.data).toMatchObject({ endpoint_id: endpoint.id });
    expect(log).toContain(`verified webhook.test ${test?.id}`);
    expect(log.filter((line) => line.startsWith("refused"))).toEqual([]);

    // The same delivery with one byte of the body changed, sent with the headers Knify signed it with.
    const sent = receiver.headers.find((each) => each["webhook-id"] === test?.id);
    const signed = Object.fromEntries(
      ["webhook-id", "webhook-timestamp", "webhook-signature", "x-knify-signature"].map((name) => [
        name,
        String(sent?.[name]),
      ]),
    );
    const tampered = JSON.stringify({ ...test, data: { ...test?.data, message: "Send your secrets here" } });
    const refused = await fetch(receiver.url, { method: "POST", body: tampered, headers: signed });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: "no_signature_matched" });
    expect(events.filter((e) => e.type === "webhook.test")).toHaveLength(1);
    expect(log.at(-1)).toMatch(/^refused a delivery: No signature matched/);

    const { job_id } = await client.jobs.create({ job_type: "cursor_task", prompt: "Hello" });
    await vi.waitFor(() => expect(events.some((e) => e.type === "job.completed" && e.data.id === job_id)).toBe(true), {
      timeout: 5000,
      interval: 20,
    });

    // The server recorded every delivery as answered with 2xx.
    await vi.waitFor(
      async () => {
        const deliveries = await all(client.webhookEndpoints.deliveries(endpoint.id));
        expect(deliveries.map((d) => d.event_type)).toEqual(expect.arrayContaining(["webhook.test", "job.completed"]));
        expect(deliveries.map((d) => d.status)).toEqual(deliveries.map(() => "succeeded"));
      },
      { timeout: 5000, interval: 50 },
    );
  });

  describe("deliveries that do not come from Knify", () => {
    const ownSecret = generateSecret();
    const handled: WebhookEvent[] = [];
    let url: string;

    beforeAll(async () => {
      const receiver = await listen();
      url = receiver.url;
      const app = createWebhookReceiver({
        secret: ownSecret,
        onEvent: (e) => void handled.push(e),
        log: () => {},
        maxBodyBytes: 4096,
      });
      receiver.use(app.callback());
    });

    const body = JSON.stringify({
      id: "evt_example1",
      type: "webhook.test",
      created_at: "2026-01-01T00:00:00Z",
      data: { endpoint_id: "we_1", message: "hi" },
    });
    const post = (payload: string, headers: SignedWebhookHeaders | Record<string, string>) =>
      fetch(url, { method: "POST", body: payload, headers: { "Content-Type": "application/json", ...headers } });

    it("refuses a tampered body with 400, and accepts the untampered one once", async () => {
      const headers = { ...sign({ payload: body, secret: ownSecret }) };
      const tampered = await post(body.replace('"hi"', '"hi!"'), headers);
      expect(tampered.status).toBe(400);
      expect(await tampered.json()).toEqual({ error: "no_signature_matched" });
      expect(handled).toHaveLength(0);

      expect((await post(body, headers)).status).toBe(204);
      // A redelivery (same webhook-id) is acknowledged but not handled twice.
      expect((await post(body, headers)).status).toBe(204);
      expect(handled.map((e) => e.id)).toEqual(["evt_example1"]);
    });

    it("refuses an unsigned delivery, a replayed old one, and a wrong secret", async () => {
      const unsigned = await post(body, {});
      expect(unsigned.status).toBe(400);
      expect(await unsigned.json()).toEqual({ error: "header_missing" });

      const old = sign({ payload: body, secret: ownSecret, timestamp: new Date(Date.now() - 3600_000) });
      expect(await (await post(body, old)).json()).toEqual({ error: "timestamp_too_old" });

      const foreign = sign({ payload: body, secret: generateSecret() });
      expect((await post(body, foreign)).status).toBe(400);
    });

    it("answers 413 to an oversized body and 405 to other methods", async () => {
      const big = "x".repeat(5000);
      expect((await post(big, sign({ payload: big, secret: ownSecret }))).status).toBe(413);
      expect((await fetch(url)).status).toBe(405);
      expect((await fetch(url.replace("/knify", "/other"), { method: "POST" })).status).toBe(404);
    });
  });

  describe("run directly", () => {
    let child: ChildProcess | undefined;
    afterAll(() => {
      if (child?.exitCode === null) child.kill("SIGKILL");
    });

    it("listens on PORT and prints each verified event", async () => {
      const ownSecret = generateSecret();
      child = spawn(process.execPath, ["--import", "tsx", "examples/webhook-receiver.ts"], {
        cwd: ROOT,
        env: exampleEnv({ KNIFY_WEBHOOK_SECRET: ownSecret, PORT: "0" }),
      });
      let stdout = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
      });
      await vi.waitFor(() => expect(stdout).toMatch(/Listening on http:\/\/127\.0\.0\.1:\d+\/webhooks\/knify\n/), {
        timeout: 10_000,
        interval: 20,
      });
      const url = /Listening on (\S+)/.exec(stdout)?.[1] as string;

      const body = JSON.stringify({
        id: "evt_direct",
        type: "webhook.test",
        created_at: new Date().toISOString(),
        data: { endpoint_id: "we_direct", message: "ping" },
      });
      const response = await fetch(url, {
        method: "POST",
        body,
        headers: { ...sign({ payload: body, secret: ownSecret }) },
      });
      expect(response.status).toBe(204);
      await vi.waitFor(() => expect(stdout).toContain("verified webhook.test evt_direct\n"), { timeout: 5000 });
      expect(stdout).toContain("  test event for we_direct: ping\n");

      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      expect(code).toBe(0);
    });

    it("exits with 1 and says what to set when KNIFY_WEBHOOK_SECRET is missing", async () => {
      const run = await new Promise<Run>((resolve) => {
        execFile(
          process.execPath,
          ["--import", "tsx", "examples/webhook-receiver.ts"],
          { cwd: ROOT, env: exampleEnv({}), timeout: 15_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        );
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("Set KNIFY_WEBHOOK_SECRET");
    });
  });
});
