import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer } from "../support/server.js";

// Issue 12: `npm start` on a fresh clone serves /dashboard and /docs with no `npm run build` first. Its build
// step (`scripts/build-site.mjs --if-stale`) builds the site into an empty or stale output, and leaves a
// current one alone (a start costs a hash of the inputs then, not a build).

const repo = join(import.meta.dirname, "..", "..");
const script = join(repo, "scripts", "build-site.mjs");
const exec = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), "knify-site-start-"));
const out = join(root, "public");
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the start script's build step on `out`; returns what it said. */
async function buildStep(): Promise<string> {
  const { stderr } = await exec(process.execPath, [script, "--if-stale", "--optional", out], { cwd: repo });
  return stderr;
}

describe("the start path's site build", { timeout: 120_000 }, () => {
  let built: string;
  beforeAll(async () => {
    built = await buildStep();
  });

  it("builds into an empty output dir a site the server serves (no SDK build needed)", async () => {
    expect(built).toMatch(/built the dashboard and the API reference/);
    const server = await startTestServer({ publicDir: out });
    try {
      for (const path of ["/dashboard", "/docs", "/openapi.json"]) {
        expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
      }
      // The hash of the inputs is the build's own, not the site's.
      expect((await fetch(`${server.url}/dashboard/.inputs-sha256`)).status).toBe(404);
    } finally {
      await server.stop();
    }
  });

  it("leaves a current site alone, and rebuilds one built from other inputs", async () => {
    const index = join(out, "dashboard", "index.html");
    const before = statSync(index);
    expect(await buildStep()).toMatch(/is up to date/);
    const after = statSync(index);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);

    // As if dashboard/src had changed since: the stamp no longer matches the inputs.
    writeFileSync(join(out, ".inputs-sha256"), "0".repeat(64));
    expect(await buildStep()).toMatch(/built the dashboard/);
    expect(statSync(index).ino).not.toBe(before.ino);
    expect(readFileSync(join(out, ".inputs-sha256"), "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(out, ".inputs-sha256"), "utf8").trim()).not.toBe("0".repeat(64));
  });
});

/** The URL of the server's "listening" log line, or an error naming what it printed before it stopped. */
async function listeningURL(stdout: NodeJS.ReadableStream): Promise<string> {
  const seen: string[] = [];
  for await (const line of createInterface({ input: stdout })) {
    seen.push(line);
    if (line.includes('"msg":"listening"')) return (JSON.parse(line) as { url: string }).url;
  }
  throw new Error(`npm start ended before listening:\n${seen.join("\n")}`);
}

describe("npm start", { timeout: 120_000 }, () => {
  it("on a fresh checkout (no server/dist, no server/public) serves /dashboard and /docs", async () => {
    // What a clone holds (the repo's node_modules linked in), in a tree of its own: building there cannot
    // swap server/dist or server/public under other tests that run the repository's own server.
    const tree = mkdtempSync(join(tmpdir(), "knify-npm-start-"));
    for (const part of [
      "package.json",
      "package-lock.json",
      "openapi.yaml",
      "scripts/build-site.mjs",
      "dashboard/src",
      "sdk/src",
      "sdk/package.json",
      "server/bin",
      "server/src",
      "server/build.mjs",
      "server/swap-dir.mjs",
      "server/package.json",
    ]) {
      cpSync(join(repo, part), join(tree, part), { recursive: true });
    }
    symlinkSync(join(repo, "node_modules"), join(tree, "node_modules"), "dir");
    // Its own process group, so the server npm starts is stopped with it.
    const child = spawn("npm", ["start"], {
      cwd: tree,
      detached: true,
      env: { ...process.env, KNIFY_DATA_DIR: join(tree, "data"), KNIFY_PORT: "0", KNIFY_LOG_LEVEL: "info" },
    });
    try {
      const url = await listeningURL(child.stdout);
      const dashboard = await fetch(`${url}/dashboard`);
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toContain('<div id="app">');
      expect((await fetch(`${url}/docs`)).status).toBe(200);
      expect(existsSync(join(tree, "server", "public", ".inputs-sha256"))).toBe(true);
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      if (child.pid) process.kill(-child.pid, "SIGTERM");
      await exited;
      rmSync(tree, { recursive: true, force: true });
    }
  });
});
