import { execFile } from "node:child_process";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

// scripts/rotate-knify-keys.sh, the script behind the auth guide's monthly cron line (issue 8, item 8), run
// as cron would run it against a live server, through the API and through the CLI.
const exec = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const script = join(root, "scripts", "rotate-knify-keys.sh");

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function rotate(args: string[], env: Record<string, string>): Promise<Run> {
  // A bare environment, as cron gives: PATH and the variables the operator set, nothing inherited.
  const base = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: server.dataDir };
  return exec("bash", [script, ...args], { env: { ...base, ...env }, cwd: server.dataDir }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
}

const verify = async (apiKey: string) =>
  (await fetch(`${server.url}/keys/verify`, { headers: { authorization: `Bearer ${apiKey}` } })).json() as Promise<{
    key_id?: string;
  }>;
const api = { ADMIN_API_KEY: "", KNIFY_BASE_URL: "" };

describe("scripts/rotate-knify-keys.sh", () => {
  beforeAll(() => {
    api.ADMIN_API_KEY = server.adminKey;
    api.KNIFY_BASE_URL = server.url;
  });

  it("rotates through the API and writes the new secret to a 0600 file, never to its output", async () => {
    const user = await server.key({ name: "deploy" });
    const file = join(server.dataDir, "knify.key");
    writeFileSync(file, "stale\n");
    chmodSync(file, 0o644);
    const run = await rotate(["--key-id", user.id, "--grace-seconds", "3600", "--out", file], api);
    expect(run.code, run.stderr).toBe(0);

    const secret = readFileSync(file, "utf8").trim();
    expect(secret).toMatch(/^knify_live_[0-9A-Za-z]{32}_[0-9a-f]{6}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`rotated ${user.id}`);
    for (const output of [run.stdout, run.stderr]) {
      expect(output).not.toContain(secret);
      expect(output).not.toContain(server.adminKey);
    }
    expect((await verify(secret)).key_id).toBe(user.id);
    expect((await verify(user.apiKey)).key_id).toBe(user.id); // still in its grace period
  });

  it("takes everything from the environment, as the cron line gives no arguments, and prints to stdout with -", async () => {
    const user = await server.key({ name: "cron" });
    const run = await rotate([], {
      ...api,
      KNIFY_KEY_ID: user.id,
      KNIFY_ROTATE_GRACE_SECONDS: "0",
      KNIFY_KEY_FILE: "-",
    });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe("");
    expect((await verify(lines[0] ?? "")).key_id).toBe(user.id);
    expect(run.stderr).not.toContain(lines[0]);
    expect((await verify(user.apiKey)).key_id).toBeUndefined(); // grace 0: the old secret is gone
  });

  // The CLI starts node with tsx: seconds on a loaded 2-core machine, so this test gets a wide budget.
  it("rotates through the CLI on the server's store when there is no ADMIN_API_KEY", { timeout: 90_000 }, async () => {
    const user = await server.key({ name: "cli" });
    const file = join(server.dataDir, "cli.key");
    const run = await rotate(["--key-id", user.id, "--out", file], { KNIFY_DATA_DIR: server.dataDir });
    expect(run.code, run.stderr).toBe(0);
    const secret = readFileSync(file, "utf8").trim();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(run.stderr).not.toContain(secret);
    expect((await verify(secret)).key_id).toBe(user.id);
  });

  it("fails clearly and leaves the output file alone when the rotation is refused", async () => {
    const file = join(server.dataDir, "kept.key");
    writeFileSync(file, "previous\n");
    const missing = await rotate(["--key-id", "key_doesnotexist", "--out", file], api);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("HTTP 404");
    expect(missing.stderr).toContain("not_found");
    expect(readFileSync(file, "utf8")).toBe("previous\n");

    const bad = await rotate(["--key-id", "nope"], api);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--key-id");

    const unwritable = await rotate(
      ["--key-id", "key_abc", "--out", join(server.dataDir, "no", "such", "dir", "k")],
      api,
    );
    expect(unwritable.code).toBe(1);
    expect(existsSync(join(server.dataDir, "no"))).toBe(false);
  });
});
