/** First backoff, in ms; it doubles per retry. */
const INITIAL_DELAY_MS = 500;
/** Backoff cap, in ms. */
const MAX_DELAY_MS = 8000;
/** Without a deadline, a server asking for a longer wait than this gets no retry: the error surfaces instead. */
export const MAX_SERVER_DELAY_MS = 60_000;

/** Statuses worth retrying: 408 timeout, 429 rate limit and every 5xx (RFC 9110 §15.5.9, §15.6). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The wait the server asked for, in ms: `Retry-After` (seconds or an HTTP date, RFC 9110 §10.2.3),
 * else on a 429 the time until `X-RateLimit-Reset` (Unix seconds). `undefined` when it asked nothing.
 */
export function serverRequestedDelay(status: number, headers: Headers, now: number): number | undefined {
  const retryAfter = headers.get("retry-after");
  if (retryAfter !== null) {
    if (/^\s*\d+(\.\d+)?\s*$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = headers.get("x-ratelimit-reset");
  if (status === 429 && reset !== null && /^\s*\d+\s*$/.test(reset)) return Math.max(0, Number(reset) * 1000 - now);
  return undefined;
}

/**
 * Exponential backoff with jitter for retry number `retry` (0 for the first retry): 0.5 s, 1 s, 2 s, … capped
 * at 8 s, minus up to 25 % so that many clients failing together do not come back together.
 */
export function backoffDelay(retry: number, random: () => number): number {
  const delay = Math.min(INITIAL_DELAY_MS * 2 ** retry, MAX_DELAY_MS);
  return delay * (1 - random() * 0.25);
}
