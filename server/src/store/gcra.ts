import type { Admission } from "./requests-repo.js";

/** The period every per-key limit is counted over: "requests per minute". */
export const RATE_PERIOD_MS = 60_000;
// GCRA compares sums of fractional emission intervals; this absorbs float rounding so that exactly
// `limit` requests fit in a period.
const EPSILON = 1e-6;

/**
 * One GCRA step (the rule every store applies; PostgreSQL runs the same arithmetic in one SQL statement):
 * from the key's stored theoretical arrival time (null: never used), the admission and the new TAT to store
 * (null when refused, which stores nothing).
 */
export function gcraStep(
  storedTat: number | null,
  limit: number,
  now: number,
): { admission: Admission; tat: number | null } {
  const interval = RATE_PERIOD_MS / limit;
  const tat = Math.max(storedTat ?? now, now);
  const next = tat + interval;
  if (next - now > RATE_PERIOD_MS + EPSILON) {
    return {
      admission: {
        allowed: false,
        limit,
        remaining: 0,
        resetAt: Math.ceil(tat),
        retryAfterMs: Math.max(0, Math.ceil(next - RATE_PERIOD_MS - now)),
      },
      tat: null,
    };
  }
  return {
    admission: {
      allowed: true,
      limit,
      remaining: Math.max(0, Math.floor((RATE_PERIOD_MS - (next - now)) / interval + EPSILON)),
      resetAt: Math.ceil(next),
      retryAfterMs: 0,
    },
    tat: next,
  };
}

/** The UTC day usage is counted under (`2025-11-17`); a month is the days that share its first 7 characters. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
