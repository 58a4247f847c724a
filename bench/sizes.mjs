// Size bench: how many bytes `@knify/sdk` and `@knify/sdk/webhooks` add to a bundle, minified and gzipped,
// next to openapi-fetch (the HTTP layer the SDK is built on) measured the same way in the same run.
//
//   npm run build && node bench/sizes.mjs [--json]
//
// How each entry is measured (see bench/README.md):
// - esbuild bundles the package entry as a user's bundler would: resolved by name through node_modules and
//   the package's `exports` map (so `sdk/dist`, ESM build), `platform: "neutral"`, minified, every export kept.
// - Externals: only Node's built-in modules (`fs`, `node:fs/promises`, …): they are not bytes a bundle ships.
//   Everything else, dependencies included, is bundled.
// - `splitting: true`, so a dynamic `import()` becomes its own chunk, as in any code-splitting bundler. The
//   SDK loads `tar` (and `node:fs`) that way, only when `workspaces.upload({ path })` archives a directory in
//   Node; those chunks are reported as "lazy" and are not part of the entry's size.
// - Each output file is gzipped on its own (zlib, level 9), as a server would serve it.

import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { printColumns, runIfMain } from "./harness.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The entries measured; `baseline` is the one the others are compared with. */
export const ENTRIES = [
  { name: "@knify/sdk", specifier: "@knify/sdk" },
  { name: "@knify/sdk (browser)", specifier: "@knify/sdk", platform: "browser" },
  { name: "@knify/sdk (node)", specifier: "@knify/sdk", platform: "node" },
  { name: "@knify/sdk/webhooks", specifier: "@knify/sdk/webhooks" },
  { name: "openapi-fetch (baseline)", specifier: "openapi-fetch", baseline: true },
];

const NODE_BUILTINS = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

/**
 * Bundles one package entry and returns its sizes in bytes.
 * @param {string} specifier a package name or subpath, resolved from the repository root
 * @param {"neutral" | "browser" | "node"} platform esbuild's platform, which sets the export conditions:
 *   neutral (workers, edge runtimes) and browser resolve the package's `#runtime` to its default runtime,
 *   node to Node's. A browser bundle gets no externals, so any Node built-in it needed would be an error.
 */
export async function measure(specifier, platform = "neutral") {
  const result = await build({
    stdin: { contents: `export * from ${JSON.stringify(specifier)};`, resolveDir: ROOT, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform,
    // Neutral platform reads no main fields by default; these are the ones bundlers read for packages without `exports`.
    ...(platform === "neutral" ? { mainFields: ["module", "main"] } : {}),
    target: "es2022",
    splitting: true,
    outdir: "out",
    write: false,
    metafile: true,
    external: platform === "browser" ? [] : NODE_BUILTINS,
    logLevel: "silent",
  });

  const files = new Map(result.outputFiles.map((file) => [file.path, file.contents]));
  const outputs = result.metafile.outputs;
  const entry = Object.keys(outputs).find((path) => outputs[path]?.entryPoint !== undefined);
  if (entry === undefined) throw new Error(`esbuild produced no entry chunk for ${specifier}`);

  // The entry chunk and the chunks it imports statically load up front; dynamic imports load on demand.
  const initial = new Set();
  // Node built-ins the up-front code imports statically: none means the entry loads outside Node too.
  const builtins = new Set();
  const visit = (path) => {
    if (initial.has(path)) return;
    initial.add(path);
    for (const each of outputs[path]?.imports ?? []) {
      if (each.kind !== "import-statement") continue;
      if (each.external) builtins.add(each.path);
      else visit(each.path);
    }
  };
  visit(entry);

  // Every package that reached the bundle (up front or lazily), by its name under node_modules.
  const packages = new Set();
  for (const output of Object.values(outputs)) {
    for (const input of Object.keys(output.inputs ?? {})) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (match) packages.add(match[1]);
    }
  }
  const sizes = {
    packages: [...packages].sort(),
    minified: 0,
    gzipped: 0,
    lazyMinified: 0,
    lazyGzipped: 0,
    staticBuiltins: [...builtins].sort(),
    // A failed build throws; these are what a successful one reported.
    errors: result.errors.length,
    warnings: result.warnings.length,
  };
  for (const [path, output] of Object.entries(outputs)) {
    if (path.endsWith(".map")) continue;
    const bytes = [...files.entries()].find(([file]) => file.endsWith(`/${path}`))?.[1];
    if (bytes === undefined) throw new Error(`esbuild output ${path} has no contents`);
    const gzipped = gzipSync(bytes, { level: 9 }).length;
    if (initial.has(path)) {
      sizes.minified += output.bytes;
      sizes.gzipped += gzipped;
    } else {
      sizes.lazyMinified += output.bytes;
      sizes.lazyGzipped += gzipped;
    }
  }
  return sizes;
}

/** Measures every entry, in order. */
export async function measureSizes() {
  const rows = [];
  for (const entry of ENTRIES) rows.push({ ...entry, ...(await measure(entry.specifier, entry.platform)) });
  return rows;
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

/** Prints the table and the ratios to the baseline. */
export async function main(argv = process.argv.slice(2)) {
  const rows = await measureSizes();
  const baseline = rows.find((row) => row.baseline);
  const withRatio = rows.map((row) => ({ ...row, ratio: baseline ? row.gzipped / baseline.gzipped : undefined }));
  if (argv.includes("--json")) {
    console.log(JSON.stringify(withRatio, null, 2));
    return;
  }
  console.log(
    "Bundle sizes (esbuild, minified; platform neutral unless named; gzip level 9 per file; Node built-ins external but in the browser build)\n",
  );
  const header = ["entry", "min", "min+gzip", "lazy min+gzip", "× baseline"];
  const lines = withRatio.map((row) => [
    row.name,
    kb(row.minified),
    kb(row.gzipped),
    row.lazyGzipped ? kb(row.lazyGzipped) : "-",
    row.ratio === undefined ? "-" : `${row.ratio.toFixed(2)}×`,
  ]);
  printColumns(header, lines);
  console.log(
    "\nlazy: chunks loaded only by a dynamic import() (the runtime when a client is made; in Node also undici on the first request, tar for directories), not counted in min+gzip.",
  );
  console.log("× baseline: the entry's min+gzip divided by openapi-fetch's, measured in this run.");
}

runIfMain(import.meta.url, main);
