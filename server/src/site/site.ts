import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, relative, sep } from "node:path";
import { DASHBOARD_CSP, DOCS_CSP, securityHeaders } from "./headers.js";

/** One file the site serves, read once (the whole site is a few MB and never changes while the server runs). */
interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  cache: string;
  csp: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".yaml": "application/yaml; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Built file names carry a content hash (`app-3FQX2K.js`): such a URL never changes its content. */
const HASHED = /-[A-Z0-9]{8}\.(js|css)$/;

/** The pages' own URLs (what a person types) mapped to their files under the public dir. */
const PAGES: Record<string, string> = {
  "/dashboard": "dashboard/index.html",
  "/dashboard/": "dashboard/index.html",
  "/docs": "docs/index.html",
  "/docs/": "docs/index.html",
  "/openapi.yaml": "openapi.yaml",
  "/openapi.json": "openapi.json",
};

/** Whether a path belongs to the site rather than the API (the spec has no path under these). */
export function isSitePath(path: string): boolean {
  return path in PAGES || path.startsWith("/dashboard/") || path.startsWith("/docs/");
}

/**
 * A request listener for the dashboard, the API reference and the spec (issue 12), served from `dir`
 * (server/public, written by `npm run build`). Every file is loaded on the first request; a request for one is
 * answered from memory with its ETag (304 when unchanged), gzip when the client takes it, and the security headers.
 * HTML and the spec revalidate on each load (`no-cache`); hashed assets are cached for a year.
 * @example const site = createSite(PUBLIC_DIR); if (isSitePath(path)) site(req, res);
 */
export function createSite(dir: string): (req: IncomingMessage, res: ServerResponse) => void {
  // Read on the first page request, not at start: most servers (and every test server) never serve one.
  let loaded: Map<string, Asset> | undefined;
  return function site(req, res) {
    loaded ??= loadAssets(dir);
    const assets = loaded;
    const path = new URL(req.url ?? "/", "http://site").pathname;
    const asset = assets.get(PAGES[path] ?? path.slice(1));
    const csp = path.startsWith("/docs") ? DOCS_CSP : DASHBOARD_CSP;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return plain(res, 405, csp, "Method not allowed: the dashboard and the reference are read with GET.", {
        Allow: "GET, HEAD",
      });
    }
    if (!asset) {
      const missing = assets.size === 0;
      return plain(
        res,
        missing ? 503 : 404,
        csp,
        missing
          ? "The dashboard and the API reference are not built: run `npm run build` (or `npm start`, which builds them), then restart the server."
          : `Not found: ${path}`,
      );
    }
    const headers: Record<string, string> = {
      ...securityHeaders(asset.csp),
      "Content-Type": asset.type,
      "Cache-Control": asset.cache,
      ETag: asset.etag,
      Vary: "Accept-Encoding",
    };
    if (req.headers["if-none-match"] === asset.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    const gzip = asset.gzip !== null && /\bgzip\b/.test(req.headers["accept-encoding"] ?? "");
    const body = gzip && asset.gzip ? asset.gzip : asset.body;
    if (gzip) headers["Content-Encoding"] = "gzip";
    headers["Content-Length"] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  };
}

function plain(
  res: ServerResponse,
  status: number,
  csp: string,
  text: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...securityHeaders(csp),
    ...extra,
    "Content-Type": "text/plain; charset=utf-8",
    "Cache-Control": "no-store",
  });
  res.end(text);
}

/** Every file under `dir`, keyed by its path relative to it with `/` separators. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    // Dot files are the build's own (the hash of its inputs), not the site's.
    if (!entry.isFile() || entry.name.endsWith(".gz") || entry.name.startsWith(".")) continue;
    const file = join(entry.parentPath, entry.name);
    const name = relative(dir, file).split(sep).join("/");
    const body = readFileSync(file);
    const gz = `${file}.gz`;
    assets.set(name, {
      body,
      gzip: existsSync(gz) && statSync(gz).isFile() ? readFileSync(gz) : null,
      type: TYPES[extname(name)] ?? "application/octet-stream",
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
      cache: HASHED.test(name) ? "public, max-age=31536000, immutable" : "no-cache",
      csp: name.startsWith("docs/") ? DOCS_CSP : DASHBOARD_CSP,
    });
  }
  return assets;
}
