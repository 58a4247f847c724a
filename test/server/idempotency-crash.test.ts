import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KnifyClient } from "@knify/sdk";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../server/src/clock.js";
import { loadConfig } from "../../server/src/config.js";
import { createLogger } from "../../server/src/logger.js";
import { startServer } from "../../server/src/server.js";
import { call } from "../support/http.js";

// Issue 15, item 5: a crash mid-POST left its Idempotency-Key "in progress" for 24 h, so the SDK's retry
// after a restart failed with 409. Here a real server process is SIGKILLed while it holds the claim.
const bin = join(import.meta.dirname, "..", "..", "server", "bin", "knify-server.mjs");
const dataDir = mkdtempSync(join(tmpdir(), "knify-idem-crash-"));
const sourceDir = join(dataDir, "..", `${dataDir.split("/").pop()}-src`);
mkdirSync(sourceDir, { recursive: true });
writeFileSync(join(sourceDir, "README.md"), "# crash\n");
const env = { ...process.env, KNIFY_DATA_DIR: dataDir, KNIFY_PORT: "0", KNIFY_LOG_LEVEL: "info" };
const children: ChildProcess[] = [];
// Each test starts server processes, which takes seconds on a loaded 2-core machine.
const BUDGET_MS = 120_000;

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(sourceDir, { recursive: true, force: true });
});

/** Starts `knify-server start` as a child process; resolves with its URL once it listens. */
async function startChild(replicaId: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [bin, "start"], { env: { ...env, KNIFY_REPLICA_ID: replicaId } });
  children.push(child);
  let stdout = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk;
      const match = /"url":"([^"]+)".*"msg":"listening"/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${stdout}`)));
  });
  return { child, url };
}

const adminKey = () => readFileSync(join(dataDir, "bootstrap-admin-key"), "utf8").trim();

/**
 * Starts an upload with `idempotencyKey` and sends only half its body, so the server holds the claim and
 * waits for the rest; resolves once a second request with the same key is told the first is in progress.
 */
async function hangUpload(url: string, idempotencyKey: string): Promise<void> {
  const boundary = "knifycrash";
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\ncrashed\r\n--${boundary}\r\nContent-Disposition: form-data; name="workspace"; filename="w.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`;
  const req = request(`${url}/workspaces`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${adminKey()}`,
      "Idempotency-Key": idempotencyKey,
      "Content-Type": `multipart/form-data; boundary=${boundary}`,
      "Content-Length": String(head.length + 100_000),
    },
  });
  req.on("error", () => undefined); // the server is about to be killed under it
  req.write(head);
  for (let attempt = 0; ; attempt++) {
    const probe = await call(url, "POST", "/workspaces", {
      key: adminKey(),
      headers: { "Idempotency-Key": idempotencyKey, "Content-Type": "multipart/form-data; boundary=x" },
      raw: "--x--\r\n",
    });
    if (probe.body?.code === "idempotency_in_progress") return;
    if (attempt > 200) throw new Error(`the upload never held its claim: ${JSON.stringify(probe.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

const upload = (url: string, idempotencyKey: string) =>
  new KnifyClient(adminKey(), { baseURL: url, maxRetries: 0 }).workspaces.upload(
    { name: `after-${idempotencyKey}`, path: sourceDir },
    { idempotencyKey },
  );

describe("an idempotency claim of a process that crashed", () => {
  it(
    "is released when the server starts again, so the SDK's retry succeeds",
    async () => {
      const first = await startChild("replica-a");
      await hangUpload(first.url, "crash-restart");
      await kill(first.child);

      const second = await startChild("replica-a");
      const workspace = await upload(second.url, "crash-restart");
      expect(workspace.name).toBe("after-crash-restart");
      await kill(second.child);
    },
    BUDGET_MS,
  );

  it(
    "holds against another replica until its lease (the request timeout) runs out, then is taken over",
    async () => {
      const first = await startChild("replica-a");
      await hangUpload(first.url, "crash-lease");
      await kill(first.child);

      // Another replica on the same database cannot tell a crashed claim from a slow one until the lease ends.
      const clock = new ManualClock(Date.now());
      const otherEnv = { ...env, KNIFY_REPLICA_ID: "replica-b" };
      const config = loadConfig(otherEnv);
      const other = await startServer(config, createLogger("silent"), { env: otherEnv, clock });
      try {
        const early = await upload(other.url, "crash-lease").catch((error: unknown) => error);
        expect(early).toMatchObject({ status: 409, code: "idempotency_in_progress" });
        clock.advance(config.uploadTimeoutMs + 1000);
        const workspace = await upload(other.url, "crash-lease");
        expect(workspace.name).toBe("after-crash-lease");
      } finally {
        await other.close(1000);
      }
    },
    BUDGET_MS,
  );
});
