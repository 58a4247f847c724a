import type { ParameterizedContext } from "koa";

/**
 * The first element of an RFC 7239 `Forwarded` header (the one the client-facing proxy wrote), as
 * lower-case parameter names → values with quotes removed. Malformed pairs are skipped, not guessed at.
 */
export function firstForwarded(header: string | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  if (!header) return params;
  // §4: elements are comma-separated, pairs semicolon-separated; a quoted-string may hold either.
  const element = /^(?:[^,"]|"(?:[^"\\]|\\.)*")*/.exec(header)?.[0] ?? "";
  for (const pair of element.match(/(?:[^;"]|"(?:[^"\\]|\\.)*")+/g) ?? []) {
    const match = /^\s*([A-Za-z]+)=("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$/.exec(pair);
    if (!match?.[1] || !match[2]) continue;
    const raw = match[2];
    params[match[1].toLowerCase()] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
  }
  return params;
}

/**
 * The origin the client used, e.g. `https://api.example.com`, as a trusted reverse proxy reports it
 * (`KNIFY_TRUST_PROXY=1`, Koa's `app.proxy`): `Forwarded` wins over `X-Forwarded-Proto`/`-Host` (which Koa
 * reads itself). Null when the proxy is not trusted, says nothing, or says something that is no origin;
 * the caller then falls back to a relative link rather than trusting the client's own `Host`.
 */
export function forwardedOrigin(ctx: ParameterizedContext): string | null {
  if (!ctx.app.proxy) return null;
  const forwarded = firstForwarded(ctx.get("forwarded") || undefined);
  if (forwarded.proto === undefined && forwarded.host === undefined) {
    if (!ctx.get("x-forwarded-proto") && !ctx.get("x-forwarded-host")) return null;
  }
  const proto = forwarded.proto?.toLowerCase() ?? ctx.protocol;
  const host = forwarded.host ?? ctx.host;
  if ((proto !== "http" && proto !== "https") || !host) return null;
  try {
    const url = new URL(`${proto}://${host}`);
    return url.host === host.toLowerCase() || url.host === host ? url.origin : null;
  } catch {
    return null;
  }
}

/** The client's address for logs: the proxy's report of it when the proxy is trusted, else the peer's. */
export function clientAddress(ctx: ParameterizedContext): string | undefined {
  if (!ctx.app.proxy) return ctx.req.socket?.remoteAddress;
  const forwardedFor = firstForwarded(ctx.get("forwarded") || undefined).for;
  if (forwardedFor !== undefined) return forwardedFor.replace(/^\[(.*)\](?::\d+)?$/, "$1");
  return ctx.ip || ctx.req.socket?.remoteAddress;
}
