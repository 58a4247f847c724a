import type pg from "pg";
import { admissionAt, GCRA_EPSILON, RATE_PERIOD_MS, utcDay } from "../gcra.js";
import type { Admission, DayCount, RequestRepo, Usage } from "../requests-repo.js";
import { row } from "./database.js";

/**
 * One statement admits or refuses, counts the usage and touches `last_used`: the GCRA comparison of
 * `gcraStep` (its start, `BASE`, is `gcraBase`: a TAT two periods ahead means the clock stepped back), run
 * where the row lock serialises every replica's requests for one key (ON CONFLICT DO UPDATE re-reads the
 * latest TAT), so a limit is exact across replicas. `$3` null: the database's clock decides,
 * so replicas with skewed clocks still share one timeline.
 */
const BASE = `CASE WHEN r.tat > (SELECT now FROM clock) + 2 * $5
    THEN (SELECT now FROM clock) + $5 - $2 ELSE greatest(r.tat, (SELECT now FROM clock)) END`;
const ADMIT = `
  WITH clock AS (SELECT coalesce($3::float8, extract(epoch FROM clock_timestamp()) * 1000) AS now),
  admitted AS (
    INSERT INTO rate_limits AS r (key_id, tat) SELECT $1, clock.now + $2 FROM clock
    ON CONFLICT (key_id) DO UPDATE SET tat = ${BASE} + $2
      WHERE ${BASE} + $2 - (SELECT now FROM clock) <= $4
    RETURNING r.tat
  ),
  counted AS (
    INSERT INTO usage_daily (key_id, day, count)
    SELECT $1, to_char(to_timestamp(clock.now / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 1 FROM admitted, clock
    ON CONFLICT (key_id, day) DO UPDATE SET count = usage_daily.count + 1
  ),
  touched AS (
    UPDATE keys SET last_used = greatest(coalesce(last_used, 0), (SELECT round(now) FROM clock)::bigint)
    WHERE id = $1 AND EXISTS (SELECT 1 FROM admitted)
  )
  SELECT true AS allowed, admitted.tat, clock.now FROM admitted, clock
  UNION ALL
  SELECT false, coalesce((SELECT tat FROM rate_limits WHERE key_id = $1), clock.now), clock.now FROM clock
  WHERE NOT EXISTS (SELECT 1 FROM admitted)`;

/** Per-key GCRA rate limiting and UTC day/month usage counters, in PostgreSQL. */
export class PostgresRequestRepo implements RequestRepo {
  /** @param clock `database`: admit on PostgreSQL's clock (replicas); `caller`: on the `now` passed in (tests). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: "database" | "caller",
  ) {}

  async admit(keyId: string, limitPerMinute: number, now: number): Promise<Admission> {
    const decided = await row<{ allowed: boolean; tat: number; now: number }>(this.pool, ADMIT, [
      keyId,
      RATE_PERIOD_MS / limitPerMinute,
      this.clock === "caller" ? now : null,
      RATE_PERIOD_MS + GCRA_EPSILON,
      RATE_PERIOD_MS,
    ]);
    if (!decided) throw new Error("the admit statement returned no row");
    return admissionAt(decided.allowed, decided.tat, limitPerMinute, decided.now);
  }

  async usage(keyId: string, now: number): Promise<Usage> {
    const day = utcDay(now);
    const found = await row<{ today: number; month: number; last_used: number | null }>(
      this.pool,
      `SELECT coalesce((SELECT count FROM usage_daily WHERE key_id = $1 AND day = $2), 0) AS today,
              coalesce((SELECT sum(count) FROM usage_daily WHERE key_id = $1 AND day >= $3 AND day <= $4), 0) AS month,
              (SELECT last_used FROM keys WHERE id = $1) AS last_used`,
      [keyId, day, `${day.slice(0, 7)}-01`, `${day.slice(0, 7)}-31`],
    );
    return {
      requestsToday: found?.today ?? 0,
      requestsThisMonth: found?.month ?? 0,
      lastUsed: found?.last_used ?? null,
    };
  }

  async daily(keyId: string, fromDay: string, toDay: string): Promise<DayCount[]> {
    const found = await this.pool.query<DayCount>(
      "SELECT day, count FROM usage_daily WHERE key_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
      [keyId, fromDay, toDay],
    );
    return found.rows;
  }
}
