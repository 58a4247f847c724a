import type { Admission } from "./requests-repo.js";

/** The period every per-key limit is counted over: "requests per minute". */
export const RATE_PERIOD_MS = 60_000;
// GCRA compares sums of fractional emission intervals; this absorbs float rounding so that exactly
// `limit` requests fit in a period.
export const GCRA_EPSILON = 1e-6;

/**
 * One GCRA step (the rule every store applies; PostgreSQL runs the same comparison in one SQL statement, see
 * its `admit`): from the key's stored theoretical arrival time (null: never used), the admission and the new
 * TAT to store (null when refused, which stores nothing).
 */
export function gcraStep(
  storedTat: number | null,
  limit: number,
  now: number,
): { admission: Admission; tat: number | null } {
  const interval = RATE_PERIOD_MS / limit;
  const next = gcraBase(storedTat, interval, now) + interval;
  const allowed = next - now <= RATE_PERIOD_MS + GCRA_EPSILON;
  return allowed
    ? { admission: admissionAt(true, next, limit, now), tat: next }
    : { admission: admissionAt(false, storedTat ?? now, limit, now), tat: null };
}

/**
 * Where a request's TAT counts from: the stored TAT, or now if that has passed. An admitted request stores at
 * most now + one period, so a stored TAT more than two periods ahead means the clock stepped back by more than
 * a minute. Counted as it is, the key would be refused for as long as the step (an hour back: "retry in
 * 3600 s"); it counts instead as a key that has just used its whole minute but one request, so that request is
 * admitted and the key is paced from there, never locked out. A smaller step keeps the key's state: an
 * exhausted key stays refused, for the step and one interval at most. PostgreSQL's admit runs the same
 * expression in SQL.
 */
export function gcraBase(storedTat: number | null, interval: number, now: number): number {
  if (storedTat === null || storedTat <= now) return now;
  return storedTat > now + 2 * RATE_PERIOD_MS ? now + RATE_PERIOD_MS - interval : storedTat;
}

/**
 * The admission a decided request gets: `tat` is the TAT stored after an allowed request, or the unchanged
 * stored TAT of a refused one.
 */
export function admissionAt(allowed: boolean, tat: number, limit: number, now: number): Admission {
  const interval = RATE_PERIOD_MS / limit;
  if (allowed) {
    return {
      allowed,
      limit,
      remaining: Math.max(0, Math.floor((RATE_PERIOD_MS - (tat - now)) / interval + GCRA_EPSILON)),
      resetAt: Math.ceil(tat),
      retryAfterMs: 0,
    };
  }
  const held = Math.max(tat, now);
  return {
    allowed,
    limit,
    remaining: 0,
    resetAt: Math.ceil(held),
    retryAfterMs: Math.max(0, Math.ceil(held + interval - RATE_PERIOD_MS - now)),
  };
}

/** The UTC day usage is counted under (`2025-11-17`); a month is the days that share its first 7 characters. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
