#!/usr/bin/env node
// Runs the built server (server/dist, written by `npm run build` and by `npm ci`'s prepare step) when it is
// at least as new as every source file; otherwise the TypeScript sources through tsx's loader, so an edit
// without a rebuild is never served stale. Only the built path is fast (no loader at run time).
import { existsSync, readdirSync, statSync } from "node:fs";

const src = new URL("../src/", import.meta.url);
const built = new URL("../dist/cli.js", import.meta.url);

function builtIsCurrent() {
  if (!existsSync(built)) return false;
  const builtAt = statSync(built).mtimeMs;
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && statSync(`${entry.parentPath}/${entry.name}`).mtimeMs > builtAt) return false;
  }
  return true;
}

// KNIFY_CLI_TRACE=1 says which of the two ran (tests check that a build is used, and a stale one is not).
const trace = process.env.KNIFY_CLI_TRACE === "1";
let main;
if (builtIsCurrent()) {
  if (trace) process.stderr.write("knify-server: running server/dist\n");
  ({ main } = await import(built.href));
} else {
  if (trace) process.stderr.write("knify-server: running server/src through tsx\n");
  else if (process.stderr.isTTY) {
    process.stderr.write(
      "knify-server: server/dist is missing or older than server/src; running the sources (slower). `npm run build` fixes it.\n",
    );
  }
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import(new URL("../src/cli.ts", import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
