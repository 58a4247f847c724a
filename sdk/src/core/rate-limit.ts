/** The key's rate-limit state after a response, from the `X-RateLimit-*` headers. */
export interface RateLimitInfo {
  /** The key's limit, in requests per minute. */
  limit: number | undefined;
  /** Requests that can be made right now without a 429. */
  remaining: number | undefined;
  /** When the full limit is available again (`X-RateLimit-Reset`, Unix seconds). */
  reset: Date | undefined;
}

/** Reads the `X-RateLimit-*` headers; an absent or malformed one is `undefined`, never `NaN`. */
export function parseRateLimit(headers: Headers): RateLimitInfo {
  const reset = integerHeader(headers, "x-ratelimit-reset");
  return {
    limit: integerHeader(headers, "x-ratelimit-limit"),
    remaining: integerHeader(headers, "x-ratelimit-remaining"),
    reset: reset === undefined ? undefined : new Date(reset * 1000),
  };
}

function integerHeader(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}
