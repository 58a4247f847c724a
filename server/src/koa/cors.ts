import type { Middleware } from "koa";
import { operations } from "../generated/operations.js";
import { spec } from "../spec.js";

type Json = Record<string, unknown>;

/** Every header name the spec lets a response carry, plus the idempotency replay marker. */
function responseHeaderNames(): string[] {
  const names = new Set<string>(["Idempotent-Replayed", "X-Request-Id"]);
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    for (const [name, value] of Object.entries(node as Json)) {
      if (name === "headers" && value !== null && typeof value === "object" && !Array.isArray(value)) {
        for (const header of Object.keys(value)) names.add(header);
      }
      visit(value);
    }
  };
  visit((spec as unknown as Json).paths);
  visit((spec.components as Json).responses);
  return [...names];
}

/** Header parameters of the spec's operations, plus what every API request may send. */
function requestHeaderNames(): string[] {
  const names = new Set<string>(["Authorization", "Content-Type", "X-Request-Id"]);
  const shared = ((spec.components as Json).parameters ?? {}) as Record<string, Json>;
  for (const item of Object.values((spec as unknown as Json).paths as Record<string, Record<string, Json>>)) {
    for (const operation of Object.values(item)) {
      for (const parameter of (operation.parameters ?? []) as Json[]) {
        const ref = typeof parameter.$ref === "string" ? shared[parameter.$ref.split("/").pop() ?? ""] : parameter;
        if (ref?.in === "header" && typeof ref.name === "string") names.add(ref.name);
      }
    }
  }
  return [...names];
}

/**
 * Cross-origin access for the browser origins `KNIFY_CORS_ORIGINS` names (issue 14): a listed origin gets
 * `Access-Control-Allow-Origin` and sees the API's response headers (request id, rate limits, `Link`,
 * `Retry-After`); its preflight is answered here. Null when no origin is configured — the default — so the
 * API's answers carry no CORS header at all and browsers keep other origins out.
 * Keys travel in the Authorization header, never cookies, so credentials mode is not enabled.
 */
export function corsMiddleware(origins: readonly string[]): Middleware | null {
  if (origins.length === 0) return null;
  const anyOrigin = origins[0] === "*";
  const allowed = new Set(origins);
  const methods = [...new Set(operations.map((operation) => operation.method))].join(", ");
  const requestHeaders = requestHeaderNames().join(", ");
  const exposed = responseHeaderNames().join(", ");
  return async function cors(ctx, next) {
    // The answer depends on Origin (unless every origin is allowed): caches must keep them apart.
    if (!anyOrigin) ctx.vary("Origin");
    const origin = ctx.get("Origin");
    if (origin === "" || !(anyOrigin || allowed.has(origin))) return next();
    ctx.set("Access-Control-Allow-Origin", anyOrigin ? "*" : origin);
    if (ctx.method === "OPTIONS" && ctx.get("Access-Control-Request-Method") !== "") {
      ctx.set("Access-Control-Allow-Methods", methods);
      ctx.set("Access-Control-Allow-Headers", requestHeaders);
      ctx.set("Access-Control-Max-Age", "600");
      ctx.status = 204;
      return;
    }
    ctx.set("Access-Control-Expose-Headers", exposed);
    return next();
  };
}
