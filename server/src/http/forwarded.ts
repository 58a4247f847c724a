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
 * The scheme and host the client used, e.g. `https://api.example.com`, for absolute URLs such as `Link`.
 * Behind a trusted proxy (`KNIFY_TRUST_PROXY=1`, Koa's `app.proxy`) `Forwarded` wins over
 * `X-Forwarded-Proto`/`-Host` (which Koa reads itself); otherwise both are ignored and the socket decides.
 */
export function requestOrigin(ctx: ParameterizedContext): string {
  const own = `${ctx.protocol}://${ctx.host}`;
  if (!ctx.app.proxy) return own;
  const forwarded = firstForwarded(ctx.get("forwarded") || undefined);
  const proto = forwarded.proto?.toLowerCase() ?? ctx.protocol;
  const host = forwarded.host ?? ctx.host;
  if (proto !== "http" && proto !== "https") return own;
  try {
    return new URL(`${proto}://${host}`).origin;
  } catch {
    return own;
  }
}

/** The client's address for logs: the proxy's report of it when the proxy is trusted, else the peer's. */
export function clientAddress(ctx: ParameterizedContext): string | undefined {
  if (!ctx.app.proxy) return ctx.req.socket?.remoteAddress;
  const forwardedFor = firstForwarded(ctx.get("forwarded") || undefined).for;
  if (forwardedFor !== undefined) return forwardedFor.replace(/^\[(.*)\](?::\d+)?$/, "$1");
  return ctx.ip || ctx.req.socket?.remoteAddress;
}
