import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const bin = join(import.meta.dirname, "..", "..", "server", "bin", "knify-server.mjs");
const dataDir = mkdtempSync(join(tmpdir(), "knify-cli-"));
const env = { ...process.env, KNIFY_DATA_DIR: dataDir, KNIFY_PORT: "0", KNIFY_LOG_LEVEL: "info" };
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs `knify-server start` until it listens, then stops it with SIGTERM; returns what it printed. */
async function startAndStop(): Promise<{ stdout: string; url: string; code: number | null }> {
  const child = spawn(process.execPath, [bin, "start"], { env });
  let stdout = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
      const match = /"url":"([^"]+)".*"msg":"listening"/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${stdout}`)));
  });
  const health = await fetch(`${url}/`);
  expect(health.status).toBe(200);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const code = await exited;
  return { stdout, url, code };
}

describe("knify-server start", () => {
  it("prints a bootstrap admin key on the first start only, and stops gracefully on SIGTERM", async () => {
    const first = await startAndStop();
    expect(first.code).toBe(0);
    const key = /\n {2}(knify_live_\S+)\n/.exec(first.stdout)?.[1];
    expect(key).toBeDefined();
    expect(first.stdout).toContain("keys create");
    expect(first.stdout).toContain('"msg":"stopped"');
    // The secret appears in the banner only, never in a structured log line.
    const logLines = first.stdout.split("\n").filter((l) => l.startsWith("{"));
    expect(logLines.join("\n")).not.toContain(key);

    const second = await startAndStop();
    expect(second.stdout).not.toMatch(/knify_live_/);
  });
});

describe("knify-server keys", () => {
  const cli = (...args: string[]) => exec(process.execPath, [bin, "keys", ...args], { env });

  it("creates, lists, rotates and revokes keys in the server's store", async () => {
    const created = JSON.parse(
      (await cli("create", "--name", "ci", "--type", "test", "--permissions", "jobs:read")).stdout,
    );
    expect(created.api_key).toMatch(/^knify_test_/);
    const listed = JSON.parse((await cli("list")).stdout) as { key_id: string }[];
    expect(listed.map((k) => k.key_id)).toContain(created.key_id);
    const rotated = JSON.parse((await cli("rotate", created.key_id, "--grace-seconds", "0")).stdout);
    expect(rotated.api_key).not.toBe(created.api_key);
    const revoked = JSON.parse((await cli("revoke", created.key_id)).stdout);
    expect(revoked.revoked_at).not.toBeNull();
  });

  it("exits non-zero with a clear message on bad input", async () => {
    const failure = await cli("revoke", "nope").then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/Give exactly one key id/);
  });
});
