/**
 * When to try again after the `failures`-th failed attempt of a delivery (1-based), or null when the
 * schedule is used up and the delivery fails. Each delay is spread by ±`jitter` so that deliveries that
 * failed together (a receiver outage) do not all come back at the same instant.
 * @example nextAttemptAt(1, now, [5000, 30000], 0.2) // now + 4000…6000
 */
export function nextAttemptAt(
  failures: number,
  now: number,
  scheduleMs: readonly number[],
  jitter: number,
  random: () => number = Math.random,
): number | null {
  const base = scheduleMs[failures - 1];
  if (base === undefined) return null;
  const factor = 1 + jitter * (2 * random() - 1);
  return now + Math.max(0, Math.round(base * factor));
}
