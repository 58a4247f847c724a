import type { Context } from "koa";
import type { Admission } from "../store/store.js";

/** `X-RateLimit-*` on every authenticated response: limit per minute, remaining now, reset as epoch seconds. */
export function setRateLimitHeaders(ctx: Pick<Context, "set">, admission: Admission): void {
  ctx.set("X-RateLimit-Limit", String(admission.limit));
  ctx.set("X-RateLimit-Remaining", String(admission.remaining));
  ctx.set("X-RateLimit-Reset", String(Math.ceil(admission.resetAt / 1000)));
}
