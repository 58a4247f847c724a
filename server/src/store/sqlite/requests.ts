import type Database from "better-sqlite3";
import type { Admission, RequestRepo, Usage } from "../store.js";

const PERIOD_MS = 60_000;
// GCRA compares sums of fractional emission intervals; this absorbs float rounding so that exactly
// `limit` requests fit in a period.
const EPSILON = 1e-6;

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Per-key GCRA rate limiting and UTC day/month usage counters, one transaction per request. */
export class SqliteRequestRepo implements RequestRepo {
  private readonly getTat;
  private readonly setTat;
  private readonly bump;
  private readonly touch;
  private readonly today;
  private readonly month;
  private readonly lastUsed;
  private readonly admitTx;

  constructor(db: Database.Database) {
    this.getTat = db.prepare("SELECT tat FROM rate_limits WHERE key_id = ?").pluck();
    this.setTat = db.prepare(
      "INSERT INTO rate_limits (key_id, tat) VALUES (?, ?) ON CONFLICT (key_id) DO UPDATE SET tat = excluded.tat",
    );
    this.bump = db.prepare(
      "INSERT INTO usage_daily (key_id, day, count) VALUES (?, ?, 1) ON CONFLICT (key_id, day) DO UPDATE SET count = count + 1",
    );
    this.touch = db.prepare("UPDATE keys SET last_used = max(coalesce(last_used, 0), ?) WHERE id = ?");
    this.today = db.prepare("SELECT count FROM usage_daily WHERE key_id = ? AND day = ?").pluck();
    this.month = db
      .prepare("SELECT coalesce(sum(count), 0) FROM usage_daily WHERE key_id = ? AND day >= ? AND day <= ?")
      .pluck();
    this.lastUsed = db.prepare("SELECT last_used FROM keys WHERE id = ?").pluck();
    this.admitTx = db.transaction((keyId: string, limit: number, now: number): Admission => {
      const interval = PERIOD_MS / limit;
      const stored = this.getTat.get(keyId) as number | undefined;
      const tat = Math.max(stored ?? now, now);
      const next = tat + interval;
      if (next - now > PERIOD_MS + EPSILON) {
        return {
          allowed: false,
          limit,
          remaining: 0,
          resetAt: Math.ceil(tat),
          retryAfterMs: Math.max(0, Math.ceil(next - PERIOD_MS - now)),
        };
      }
      this.setTat.run(keyId, next);
      this.bump.run(keyId, utcDay(now));
      this.touch.run(now, keyId);
      return {
        allowed: true,
        limit,
        remaining: Math.max(0, Math.floor((PERIOD_MS - (next - now)) / interval + EPSILON)),
        resetAt: Math.ceil(next),
        retryAfterMs: 0,
      };
    });
  }

  async admit(keyId: string, limitPerMinute: number, now: number): Promise<Admission> {
    return this.admitTx(keyId, limitPerMinute, now);
  }

  async usage(keyId: string, now: number): Promise<Usage> {
    const day = utcDay(now);
    return {
      requestsToday: (this.today.get(keyId, day) as number | undefined) ?? 0,
      requestsThisMonth: this.month.get(keyId, `${day.slice(0, 7)}-01`, `${day.slice(0, 7)}-31`) as number,
      lastUsed: (this.lastUsed.get(keyId) as number | null | undefined) ?? null,
    };
  }
}
