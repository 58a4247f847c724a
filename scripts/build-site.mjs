#!/usr/bin/env node
// Builds what the server serves to browsers (issue 12) into server/public/: the dashboard (dashboard/src,
// bundled with the SDK's browser build by esbuild), the API reference (Scalar's standalone bundle, copied from
// node_modules, and a tiny start script: the page has no inline script, so its CSP can forbid them), and
// openapi.yaml / openapi.json. Script and style names carry a content hash, so the server can let browsers
// cache them for a year. Each text file also gets a .gz beside it, sent to clients that accept gzip.
// The dashboard takes the SDK from its sources (sdk/src) with the browser runtime, so it needs no SDK build.
// Run alone: `node scripts/build-site.mjs [dir]`. `npm start` runs it with `--if-stale`: it builds only when the
// output is missing or was built from other inputs (a hash of them is kept in the output), so a start with a
// current site costs one hash of ~1.5 MB of sources; `--optional` lets an install without dev dependencies
// start anyway (the server then answers 503 on these pages).
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { swapDir } from "../server/swap-dir.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

/** What the site is built from: a change to any of these makes `--if-stale` rebuild. */
const INPUTS = [
  "dashboard/src",
  "sdk/src",
  "sdk/package.json",
  "openapi.yaml",
  "scripts/build-site.mjs",
  "package-lock.json",
];
/** Where the output keeps the hash of its inputs (a dot file: the server never serves it). */
const STAMP = ".inputs-sha256";

/**
 * One hash over the inputs' paths and contents, in a stable order. mtimes would not do: a fresh clone or a
 * `git checkout` gives every file a new one.
 * @example inputsHash() // "9f2c…"
 */
export function inputsHash() {
  const hash = createHash("sha256");
  for (const input of INPUTS) {
    const path = join(repo, input);
    const files = statSync(path).isDirectory()
      ? readdirSync(path, { recursive: true, withFileTypes: true })
          .filter((entry) => entry.isFile())
          .map((entry) => join(entry.parentPath, entry.name))
          .sort()
      : [path];
    for (const file of files)
      hash
        .update(`${relative(repo, file)}\0`)
        .update(readFileSync(file))
        .update("\0");
  }
  return hash.digest("hex");
}

/** Whether `target` holds a site built from the current inputs. */
export function isCurrent(target, hash = inputsHash()) {
  const stamp = join(target, STAMP);
  return existsSync(stamp) && readFileSync(stamp, "utf8").trim() === hash;
}

/** The same 8-character hash shape esbuild gives `[hash]`, for files copied as they are. */
function hashed(name, body) {
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 8).toUpperCase();
  return name.replace(/(\.[a-z]+)$/, `-${hash}$1`);
}

function page(title, { scripts, styles = [], body }) {
  const links = styles.map((href) => `<link rel="stylesheet" href="${href}">`).join("\n    ");
  const tags = scripts.map((src) => `<script src="${src}" defer></script>`).join("\n    ");
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <link rel="icon" href="data:,">
    <title>${title}</title>
    ${links}
    ${tags}
  </head>
  <body>
    ${body}
  </body>
</html>
`;
}

/**
 * The SDK's sources import Node's runtime (`../runtime/node.js`, undici and tar); its package build leaves that
 * to the `#runtime` import map, which gives browsers `runtime/default`. Bundling the sources, this plugin makes
 * the same choice, so the dashboard holds exactly the SDK's browser build without `npm run build -w sdk` first.
 */
const browserRuntime = {
  name: "knify-sdk-browser-runtime",
  setup(build) {
    build.onResolve({ filter: /^@knify\/sdk$/ }, () => ({ path: join(repo, "sdk", "src", "index.ts") }));
    build.onResolve({ filter: /\/runtime\/node\.js$/ }, (args) =>
      args.importer.startsWith(join(repo, "sdk", "src"))
        ? { path: join(repo, "sdk", "src", "runtime", "default.ts") }
        : undefined,
    );
  },
};

async function buildDashboard(out) {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: { app: join(repo, "dashboard", "src", "main.tsx") },
    outdir: join(out, "dashboard"),
    entryNames: "[name]-[hash]",
    bundle: true,
    minify: true,
    sourcemap: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // Not dashboard/tsconfig.json: the plugin above, not `paths`, says where the SDK comes from.
    tsconfigRaw: { compilerOptions: { jsx: "react-jsx", jsxImportSource: "preact" } },
    plugins: [browserRuntime],
    metafile: true,
    logLevel: "warning",
    legalComments: "none",
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
  const js = outputs.find((file) => file.endsWith(".js"));
  const css = outputs.find((file) => file.endsWith(".css"));
  const html = page("Knify dashboard", {
    scripts: [`/dashboard/${js}`],
    styles: css ? [`/dashboard/${css}`] : [],
    body: '<div id="app"><noscript>The Knify dashboard needs JavaScript.</noscript></div>',
  });
  writeFileSync(join(out, "dashboard", "index.html"), html);
}

function buildDocs(out) {
  mkdirSync(join(out, "docs"), { recursive: true });
  // The package exports no path to its browser bundle: it sits beside the main entry (dist/index.js).
  const scalarPath = join(dirname(require.resolve("@scalar/api-reference")), "browser", "standalone.js");
  const scalar = readFileSync(scalarPath);
  const scalarName = hashed("scalar.js", scalar);
  writeFileSync(join(out, "docs", scalarName), scalar);
  // Scalar's options: the spec from this server; no web fonts (fonts.scalar.com is another origin, and the
  // machine may be offline); no "open in Scalar's client" button (it opens client.scalar.com).
  // "Test request" goes to this server (the spec's servers name the hosted API, another origin).
  const start = `Scalar.createApiReference("#reference", Object.assign(${JSON.stringify({
    url: "/openapi.json",
    withDefaultFonts: false,
    hideClientButton: true,
    showDeveloperTools: "never",
    telemetry: false,
    // Scalar's "Agent" fetches api.scalar.com through proxy.scalar.com: another origin, refused by the CSP.
    agent: { disabled: true },
  })}, { servers: [{ url: location.origin, description: "This server" }] }));\n`;
  const startName = hashed("reference.js", start);
  writeFileSync(join(out, "docs", startName), start);
  const html = page("Knify API reference", {
    scripts: [`/docs/${scalarName}`, `/docs/${startName}`],
    body: '<div id="reference"><noscript>The API reference needs JavaScript; the spec is at <a href="/openapi.yaml">/openapi.yaml</a>.</noscript></div>',
  });
  writeFileSync(join(out, "docs", "index.html"), html);
}

async function copySpec(out) {
  const { parse } = await import("yaml");
  const yaml = readFileSync(join(repo, "openapi.yaml"), "utf8");
  writeFileSync(join(out, "openapi.yaml"), yaml);
  writeFileSync(join(out, "openapi.json"), `${JSON.stringify(parse(yaml), null, 2)}\n`);
}

function gzipAll(files) {
  for (const file of files) writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), { level: 9 }));
}

/**
 * Builds the site into `target` (default server/public), staged beside it and swapped in whole so a running
 * build never serves half a site.
 * @example await buildSite();
 */
export async function buildSite(target = join(repo, "server", "public")) {
  mkdirSync(dirname(target), { recursive: true });
  const hash = inputsHash();
  const staging = mkdtempSync(`${target}.staging-`);
  chmodSync(staging, 0o755);
  try {
    await buildDashboard(staging);
    buildDocs(staging);
    await copySpec(staging);
    const files = readdirSync(staging, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && /\.(html|js|css|json|yaml)$/.test(entry.name))
      .map((entry) => join(entry.parentPath, entry.name));
    gzipAll(files);
    writeFileSync(join(staging, STAMP), `${hash}\n`);
    swapDir(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Whether the packages the build needs are installed (an install without dev dependencies lacks them). */
function canBuild() {
  try {
    for (const name of ["esbuild", "preact", "uplot", "yaml", "@scalar/api-reference"]) require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

// `node scripts/build-site.mjs [--if-stale] [--optional] [dir]`: the tests build into a temp dir of their own.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flags = process.argv.slice(2).filter((arg) => arg.startsWith("--"));
  const target = process.argv.slice(2).find((arg) => !arg.startsWith("--")) ?? join(repo, "server", "public");
  const say = (line) => process.stderr.write(`build-site: ${line}\n`);
  const shown = target.startsWith(repo) ? relative(repo, target) : target;
  if (flags.includes("--if-stale") && isCurrent(target)) {
    say(`${shown} is up to date.`);
  } else if (flags.includes("--optional") && !canBuild()) {
    say("the dev dependencies are not installed; /dashboard and /docs will answer 503 (npm install, then restart).");
  } else {
    const started = Date.now();
    await buildSite(target);
    say(`built the dashboard and the API reference into ${shown} in ${Date.now() - started} ms.`);
  }
}
