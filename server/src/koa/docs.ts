import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Middleware } from "koa";
import { stringify } from "yaml";
import { spec } from "../spec.js";

/**
 * The headers of every page the server shows a browser (/docs): a strict Content-Security-Policy — scripts
 * and connections to this origin only, no inline script, never framed — plus nosniff and no referrer.
 * `style-src 'unsafe-inline'`: Swagger UI sets style attributes; no script can run from them.
 */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; "),
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/** The page: Swagger UI's files from this server, started by docs.js (an inline script would break the CSP). */
const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Knify API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/docs.js"></script>
</body>
</html>
`;

/**
 * Renders /openapi.json into the page, with this server first among the spec's servers, so that "Try it out"
 * calls this same origin (the only one `connect-src 'self'` allows).
 */
const DOCS_JS = `fetch("/openapi.json")
  .then((response) => response.json())
  .then((spec) => {
    spec.servers = [{ url: window.location.origin, description: "This server" }, ...(spec.servers || [])];
    window.ui = SwaggerUIBundle({ spec, dom_id: "#reference", deepLinking: true, validatorUrl: null });
  });
`;

/** Swagger UI's files the page loads, served from the installed swagger-ui-dist package. */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

/** Where swagger-ui-dist is installed (a dependency of the server; resolved, not assumed). */
const swaggerDir = (() => {
  let dir: string | undefined;
  return () => {
    dir ??= join(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"), "..");
    return dir;
  };
})();

/**
 * `/docs` (the API reference, rendered in the browser by Swagger UI from `/openapi.json`), `/openapi.json` and
 * `/openapi.yaml`: public, read-only, served by this server alone — nothing is loaded from another origin.
 * Every other request goes on to the API unchanged.
 */
export function docsMiddleware(): Middleware {
  let yamlText: string | undefined;
  const jsonText = `${JSON.stringify(spec, null, 2)}\n`;
  return async (ctx, next) => {
    if (ctx.method !== "GET" && ctx.method !== "HEAD") return next();
    const path = ctx.path;
    if (path === "/openapi.json" || path === "/openapi.yaml") {
      ctx.set("Cache-Control", "no-cache");
      ctx.set("X-Content-Type-Options", "nosniff");
      if (path === "/openapi.json") {
        ctx.type = "application/json; charset=utf-8";
        ctx.body = jsonText;
      } else {
        yamlText ??= stringify(spec, { lineWidth: 0 });
        ctx.type = "application/yaml; charset=utf-8";
        ctx.body = yamlText;
      }
      return;
    }
    if (path === "/docs/") return ctx.redirect("/docs");
    if (path !== "/docs" && !path.startsWith("/docs/")) return next();
    for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) ctx.set(name, value);
    const file = path.slice("/docs/".length);
    if (path === "/docs") {
      ctx.set("Cache-Control", "no-cache");
      ctx.type = "text/html; charset=utf-8";
      ctx.body = DOCS_HTML;
    } else if (file === "docs.js") {
      ctx.set("Cache-Control", "no-cache");
      ctx.type = "text/javascript; charset=utf-8";
      ctx.body = DOCS_JS;
    } else if (file in ASSETS) {
      // Named by the pinned version, not by content: cached for a day, revalidated after an upgrade.
      ctx.set("Cache-Control", "public, max-age=86400");
      ctx.type = ASSETS[file] as string;
      ctx.body = await readFile(join(swaggerDir(), file));
    } else {
      return next();
    }
  };
}
