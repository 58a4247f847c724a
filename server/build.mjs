#!/usr/bin/env node
// Builds the server and its CLI into server/dist/ as plain JavaScript, so `knify-server` starts without a
// TypeScript loader at run time (a key command in well under 300 ms). The npm dependencies stay external
// (better-sqlite3 is native; the rest resolve from node_modules as before); the generated validators (CommonJS)
// and spec are bundled in. Code splitting keeps Koa, undici and pg out of the key commands' load.
// bin/knify-server.mjs runs this output only when it is newer than every file under src/, else the sources
// through tsx, so a stale build is never run.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { swapDir } from "./swap-dir.mjs";

// `--optional` (npm's prepare step): an install without dev dependencies has no esbuild; the CLI then runs the sources.
let build;
try {
  ({ build } = await import("esbuild"));
} catch (error) {
  if (!process.argv.includes("--optional")) throw error;
  process.stderr.write("server/build.mjs: esbuild is not installed; knify-server will run its TypeScript sources.\n");
  process.exit(0);
}

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
// Built beside dist and swapped in whole, so a CLI started during the build sees the old or the new tree.
const staging = mkdtempSync(join(root, ".dist-"));
chmodSync(staging, 0o755);
try {
  await build({
    entryPoints: { cli: join(root, "src", "cli.ts") },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    // The generated validators are CommonJS and require ajv's runtime helpers.
    banner: {
      js: 'import { createRequire as __knifyRequire } from "node:module"; const require = __knifyRequire(import.meta.url);',
    },
    logLevel: "warning",
    legalComments: "none",
  });
  swapDir(staging, dist);
} catch (error) {
  rmSync(staging, { recursive: true, force: true });
  throw error;
}
