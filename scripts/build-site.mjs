#!/usr/bin/env node
// Builds what the server serves to browsers (issue 12) into server/public/: the dashboard (dashboard/src,
// bundled with the SDK's browser build by esbuild), the API reference (Scalar's standalone bundle, copied from
// node_modules, and a tiny start script: the page has no inline script, so its CSP can forbid them), and
// openapi.yaml / openapi.json. Script and style names carry a content hash, so the server can let browsers
// cache them for a year. Each text file also gets a .gz beside it, sent to clients that accept gzip.
// Needs the SDK built first (`npm run build` does it in that order). Run alone: `node scripts/build-site.mjs`.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { parse } from "yaml";
import { swapDir } from "../server/swap-dir.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

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

async function buildDashboard(out) {
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
    // Not dashboard/tsconfig.json: its `paths` point the type checker at the SDK's sources, while the bundle
    // must take the published package's browser build (its `#runtime` map leaves undici and tar out).
    tsconfigRaw: { compilerOptions: { jsx: "react-jsx", jsxImportSource: "preact" } },
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

function copySpec(out) {
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
  const staging = mkdtempSync(`${target}.staging-`);
  try {
    await buildDashboard(staging);
    buildDocs(staging);
    copySpec(staging);
    const files = readdirSync(staging, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && /\.(html|js|css|json|yaml)$/.test(entry.name))
      .map((entry) => join(entry.parentPath, entry.name));
    gzipAll(files);
    swapDir(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

// `node scripts/build-site.mjs [dir]`: the tests build into a temp dir of their own.
if (process.argv[1] === fileURLToPath(import.meta.url)) await buildSite(process.argv[2]);
