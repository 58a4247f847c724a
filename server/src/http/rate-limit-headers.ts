import type { Admission } from "../store/store.js";

/** `X-RateLimit-*` on every authenticated response: limit per minute, remaining now, reset as epoch seconds. */
export function rateLimitHeaders(admission: Admission): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(admission.limit),
    "X-RateLimit-Remaining": String(admission.remaining),
    "X-RateLimit-Reset": String(Math.ceil(admission.resetAt / 1000)),
  };
}
