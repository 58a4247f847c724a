import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Issue 14 item 4: `knify-server` runs built JavaScript, with no TypeScript loader at run time, and never a
// stale build. The server folder is copied to a temporary tree so that building and touching sources there
// cannot disturb other tests that run the repository's own CLI.
const exec = promisify(execFile);
const repo = join(import.meta.dirname, "..", "..");
const tree = mkdtempSync(join(tmpdir(), "knify-cli-build-"));
const server = join(tree, "server");
const bin = join(server, "bin", "knify-server.mjs");
const dataDir = join(tree, "data");
const env = { ...process.env, KNIFY_CLI_TRACE: "1", KNIFY_DATA_DIR: dataDir };

async function cli(...args: string[]) {
  return exec(process.execPath, [bin, ...args], { env, cwd: tree });
}

beforeAll(async () => {
  for (const part of ["bin", "src", "build.mjs", "swap-dir.mjs", "package.json"]) {
    cpSync(join(repo, "server", part), join(server, part), { recursive: true });
  }
  symlinkSync(join(repo, "node_modules"), join(tree, "node_modules"), "dir");
  await exec(process.execPath, [join(server, "build.mjs")]);
}, 60_000);
afterAll(() => rmSync(tree, { recursive: true, force: true }));

describe("the knify-server CLI", () => {
  it("runs the build when it is current, and its key commands work from it", async () => {
    const version = await cli("--version");
    expect(version.stderr).toBe("knify-server: running server/dist\n");
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);

    const created = await cli("keys", "create", "--name", "built", "--init");
    expect(created.stderr).toBe("knify-server: running server/dist\n");
    const key = JSON.parse(created.stdout) as { key_id: string; api_key: string };
    expect(key.api_key).toMatch(/^knify_live_/);
    const listed = await cli("keys", "list", "--json");
    expect((JSON.parse(listed.stdout) as { key_id: string }[]).map((k) => k.key_id)).toContain(key.key_id);
  }, 60_000);

  it("runs the sources, not a stale build, once a source file is newer than the build", async () => {
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(server, "src", "clock.ts"), later, later);
    const version = await cli("--version");
    expect(version.stderr).toBe("knify-server: running server/src through tsx\n");
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);

    // After an edit (here: the file back to an hour ago, so the rebuild is surely newer) a build is used again.
    const earlier = new Date(Date.now() - 3_600_000);
    utimesSync(join(server, "src", "clock.ts"), earlier, earlier);
    await exec(process.execPath, [join(server, "build.mjs")]);
    expect((await cli("--version")).stderr).toBe("knify-server: running server/dist\n");
  }, 60_000);

  it("runs the sources when there is no build", async () => {
    rmSync(join(server, "dist"), { recursive: true });
    const version = await cli("--version");
    expect(version.stderr).toBe("knify-server: running server/src through tsx\n");
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  }, 60_000);
});
