import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const bin = join(import.meta.dirname, "..", "..", "server", "bin", "knify-server.mjs");
const dataDir = mkdtempSync(join(tmpdir(), "knify-cli-"));
const env = { ...process.env, KNIFY_DATA_DIR: dataDir, KNIFY_PORT: "0", KNIFY_LOG_LEVEL: "info" };
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/**
 * Runs `knify-server start` until it listens, then stops it with SIGTERM; returns what it printed and the
 * status of `GET /keys/verify` with the key in the bootstrap key file, if there is one.
 */
async function startAndStop(): Promise<{ stdout: string; url: string; code: number | null; verified?: number }> {
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
  const keyFile = join(dataDir, "bootstrap-admin-key");
  const verified = existsSync(keyFile)
    ? (
        await fetch(`${url}/keys/verify`, {
          headers: { Authorization: `Bearer ${readFileSync(keyFile, "utf8").trim()}` },
        })
      ).status
    : undefined;
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const code = await exited;
  return { stdout, url, code, ...(verified !== undefined ? { verified } : {}) };
}

// Every test spawns the server or the CLI, which takes a second or more each on a loaded 2-core machine.
describe("knify-server start", { timeout: 120_000 }, () => {
  it("writes a bootstrap admin key to a 0600 file on the first start only, never to a captured stdout, and stops gracefully on SIGTERM", async () => {
    const first = await startAndStop();
    expect(first.code).toBe(0);
    const keyFile = join(dataDir, "bootstrap-admin-key");
    const key = readFileSync(keyFile, "utf8").trim();
    expect(key).toMatch(/^knify_live_/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(first.verified).toBe(200);
    // stdout is a pipe here (a service manager's journal, a CI log): it names the file, not the secret.
    expect(first.stdout).not.toContain(key);
    expect(first.stdout).not.toMatch(/knify_live_/);
    expect(first.stdout).toContain(keyFile);
    expect(first.stdout).toContain("keys create");
    expect(first.stdout).toContain('"msg":"stopped"');

    rmSync(keyFile);
    const second = await startAndStop();
    expect(second.stdout).not.toMatch(/knify_live_|bootstrap-admin-key/);
    expect(existsSync(keyFile)).toBe(false);
  });
});

describe("knify-server keys", { timeout: 120_000 }, () => {
  const cli = (...args: string[]) => exec(process.execPath, [bin, "keys", ...args], { env });

  it("creates, lists, rotates and revokes keys in the server's store", async () => {
    const created = JSON.parse(
      (await cli("create", "--name", "ci", "--type", "test", "--permissions", "jobs:read")).stdout,
    );
    expect(created.api_key).toMatch(/^knify_test_/);
    const listed = JSON.parse((await cli("list", "--json")).stdout) as { key_id: string }[];
    expect(listed.map((k) => k.key_id)).toContain(created.key_id);
    // For a person: a header and one aligned row per key, no JSON and never a secret.
    const table = (await cli("list")).stdout.trimEnd().split("\n");
    expect(table[0]).toMatch(/^KEY_ID\s+NAME\s+TYPE\s+WORKSPACE\s+PERMISSIONS\s+RATE_LIMIT\s+LAST_USED\s+STATUS$/);
    const row = table.find((line) => line.startsWith(created.key_id));
    expect(row).toMatch(new RegExp(`^${created.key_id}\\s+ci\\s+test\\s+-\\s+jobs:read\\s+\\d+\\s+never\\s+active$`));
    expect(table).toHaveLength(listed.length + 1);
    expect(table.join("\n")).not.toMatch(/knify_(live|test)_/);
    const rotated = JSON.parse((await cli("rotate", created.key_id, "--grace-seconds", "0")).stdout);
    expect(rotated.api_key).not.toBe(created.api_key);
    const revoked = JSON.parse((await cli("revoke", created.key_id)).stdout);
    expect(revoked.revoked_at).not.toBeNull();
  });

  it("refuses to create a new, empty store for a key (another directory, another KNIFY_DATA_DIR) unless --init", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "knify-cli-elsewhere-"));
    const there = { ...env, KNIFY_DATA_DIR: join(elsewhere, "data") };
    try {
      const failure = await exec(process.execPath, [bin, "keys", "create", "--name", "lost"], { env: there }).then(
        () => null,
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stdout).toBe("");
      expect(failure?.stderr).toContain(`There is no store at ${join(elsewhere, "data", "knify.db")}`);
      expect(failure?.stderr).toContain("--init");
      expect(existsSync(join(elsewhere, "data", "knify.db"))).toBe(false);
      // With --init the new store is made and the key printed.
      const made = await exec(process.execPath, [bin, "keys", "create", "--name", "fresh", "--init"], { env: there });
      expect(JSON.parse(made.stdout).api_key).toMatch(/^knify_live_/);
      expect(existsSync(join(elsewhere, "data", "knify.db"))).toBe(true);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("answers --help and -h with the usage on stdout and exit 0, and --version with the package's version", async () => {
    for (const args of [["--help"], ["-h"], ["keys", "--help"], ["keys", "create", "--help"]]) {
      const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { env });
      expect(stdout).toContain("knify-server keys create --name NAME");
      expect(stderr).toBe("");
    }
    const { version } = JSON.parse(
      readFileSync(join(import.meta.dirname, "..", "..", "server", "package.json"), "utf8"),
    );
    expect((await exec(process.execPath, [bin, "--version"], { env })).stdout).toBe(`${version}\n`);
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
