import type Database from "better-sqlite3";
import { gcraStep, utcDay } from "../gcra.js";
import type { Admission, RequestRepo, Usage } from "../requests-repo.js";

/** Per-key GCRA rate limiting and UTC day/month usage counters, one transaction per request. */
export class SqliteRequestRepo implements RequestRepo {
  private readonly today;
  private readonly month;
  private readonly lastUsed;
  private readonly admitTx;

  constructor(db: Database.Database) {
    const getTat = db.prepare("SELECT tat FROM rate_limits WHERE key_id = ?").pluck();
    const setTat = db.prepare(
      "INSERT INTO rate_limits (key_id, tat) VALUES (?, ?) ON CONFLICT (key_id) DO UPDATE SET tat = excluded.tat",
    );
    const bump = db.prepare(
      "INSERT INTO usage_daily (key_id, day, count) VALUES (?, ?, 1) ON CONFLICT (key_id, day) DO UPDATE SET count = count + 1",
    );
    const touch = db.prepare("UPDATE keys SET last_used = max(coalesce(last_used, 0), ?) WHERE id = ?");
    this.today = db.prepare("SELECT count FROM usage_daily WHERE key_id = ? AND day = ?").pluck();
    this.month = db
      .prepare("SELECT coalesce(sum(count), 0) FROM usage_daily WHERE key_id = ? AND day >= ? AND day <= ?")
      .pluck();
    this.lastUsed = db.prepare("SELECT last_used FROM keys WHERE id = ?").pluck();
    this.admitTx = db.transaction((keyId: string, limit: number, now: number): Admission => {
      const step = gcraStep((getTat.get(keyId) as number | undefined) ?? null, limit, now);
      if (step.tat === null) return step.admission;
      setTat.run(keyId, step.tat);
      bump.run(keyId, utcDay(now));
      touch.run(now, keyId);
      return step.admission;
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
