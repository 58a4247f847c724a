import { utcDay } from "../store/gcra.js";
import type { Store } from "../store/store.js";

const DAY_MS = 86_400_000;

/** One point of `KeyUsage.daily`. */
export interface DailyPoint {
  date: string;
  requests: number;
}

/**
 * The key's requests per UTC day for the `days` days ending with `now`'s day, oldest first, 0 where the
 * store kept no count (issue 12: the dashboard's chart needs every day, not only the busy ones).
 */
export async function dailyUsage(store: Store, keyId: string, days: number, now: number): Promise<DailyPoint[]> {
  const dates = Array.from({ length: days }, (_, i) => utcDay(now - (days - 1 - i) * DAY_MS));
  const counted = new Map(
    (await store.requests.daily(keyId, dates[0] ?? utcDay(now), utcDay(now))).map((d) => [d.day, d.count]),
  );
  return dates.map((date) => ({ date, requests: Number(counted.get(date) ?? 0) }));
}
