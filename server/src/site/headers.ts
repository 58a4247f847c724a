/**
 * Security headers of the browser pages (issue 12, item 3). No inline script anywhere: each page loads its
 * script from this origin. `connect-src 'self'` keeps the pages' fetches on this server (the key never leaves
 * it), `frame-ancestors 'none'` stops clickjacking. The API's JSON answers do not get these (unchanged for
 * non-browser clients).
 */
const common = [
  "default-src 'none'",
  "script-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
];

/** The dashboard's CSP: its styles are one stylesheet of its own, so not even inline style is allowed. */
export const DASHBOARD_CSP = [...common, "style-src 'self'"].join("; ");

/**
 * The reference's CSP. Scalar's renderer (Vue) writes `<style>` elements and style attributes at run time,
 * so `style-src` needs 'unsafe-inline' here — styles only: scripts stay 'self'. Scalar's "Test request"
 * panel posts to this origin only, as `connect-src 'self'` says (no proxy.scalar.com).
 */
export const DOCS_CSP = [...common, "style-src 'self' 'unsafe-inline'"].join("; ");

/** Headers every site response carries, whatever its type. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    "Content-Security-Policy": csp,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
  };
}
