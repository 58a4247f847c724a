import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";

// What the README tells a user to do before the SDK is published: `npm pack -w sdk`, then install the tarball.
// The package is packed from a copy of sdk/ *without* dist/, as in a fresh clone, so `prepack` must build it
// (issue 14, item 1); the tarball is then unpacked into an empty app, which imports both entries and calls a
// server on loopback. Dependencies are linked from this repository's node_modules instead of downloaded.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "knify-pack-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

it("npm pack on a clone without dist/ builds it (prepack), and the tarball installs and runs in an empty app", async () => {
  // A clone's layout: the workspace root (tsconfig.base.json, node_modules), sdk/ without dist/, and the server's
  // sources, which `./testing` bundles (it runs the server's rules).
  const clone = join(work, "clone");
  mkdirSync(join(clone, "sdk"), { recursive: true });
  cpSync(join(ROOT, "tsconfig.base.json"), join(clone, "tsconfig.base.json"));
  for (const entry of ["package.json", "src", "tsconfig.json", "tsup.config.ts", "README.md", "LICENSE"]) {
    cpSync(join(ROOT, "sdk", entry), join(clone, "sdk", entry), { recursive: true });
  }
  cpSync(join(ROOT, "server", "src"), join(clone, "server", "src"), { recursive: true });
  cpSync(join(ROOT, "server", "package.json"), join(clone, "server", "package.json"));
  symlinkSync(join(ROOT, "node_modules"), join(clone, "node_modules"), "dir");

  const packed = await run("npm", ["pack", "--pack-destination", work], join(clone, "sdk"));
  expect(packed.code, packed.stderr).toBe(0);
  const tarball = readdirSync(work).find((name) => /^knify-sdk-.*\.tgz$/.test(name));
  expect(tarball).toBeDefined();

  // `npm install ./knify-sdk-*.tgz`, minus the download: unpack it, link its dependencies.
  const app = join(work, "app");
  const installed = join(app, "node_modules", "@knify", "sdk");
  mkdirSync(installed, { recursive: true });
  const unpacked = await run(
    "tar",
    ["-xzf", join(work, tarball as string), "--strip-components=1", "-C", installed],
    work,
  );
  expect(unpacked.code, unpacked.stderr).toBe(0);
  for (const dependency of ["undici", "tar"]) {
    symlinkSync(join(ROOT, "node_modules", dependency), join(app, "node_modules", dependency), "dir");
  }
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  writeFileSync(
    join(app, "main.js"),
    `import { createServer } from "node:http";
import { KnifyClient } from "@knify/sdk";
import { verify } from "@knify/sdk/webhooks";
const server = createServer((request, response) => {
  response.writeHead(200, { "Content-Type": "application/json" });
  response.end(JSON.stringify({ status: "ok", version: "test" }));
}).listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const client = new KnifyClient("knify_test_x", { baseURL: "http://127.0.0.1:" + server.address().port });
const health = await client.health();
await client.close();
server.close();
console.log(JSON.stringify({
  health,
  verified: verify("Hello, World!", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "It's a Secret to Everybody"),
}));
`,
  );
  const result = await run(process.execPath, ["main.js"], app);
  expect(result.stderr).toBe("");
  expect(JSON.parse(result.stdout)).toEqual({ health: { status: "ok", version: "test" }, verified: true });
}, 300_000);
