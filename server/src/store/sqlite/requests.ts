import type Database from "better-sqlite3";
import { gcraStep, utcDay } from "../gcra.js";
import type { Admission, RequestRepo, Usage } from "../requests-repo.js";
import type { UsageLedger } from "./usage-ledger.js";

/**
 * Per-key GCRA rate limiting (one write transaction per request: the limit is exact, whoever else writes the
 * file) and UTC day/month usage counters (counted in the {@link UsageLedger}, flushed before every read).
 */
export class SqliteRequestRepo implements RequestRepo {
  private readonly today;
  private readonly month;
  private readonly lastUsed;
  private readonly admitTx;

  constructor(
    db: Database.Database,
    private readonly ledger: UsageLedger,
  ) {
    const getTat = db.prepare("SELECT tat FROM rate_limits WHERE key_id = ?").pluck();
    const setTat = db.prepare(
      "INSERT INTO rate_limits (key_id, tat) VALUES (?, ?) ON CONFLICT (key_id) DO UPDATE SET tat = excluded.tat",
    );
    this.today = db.prepare("SELECT count FROM usage_daily WHERE key_id = ? AND day = ?").pluck();
    this.month = db
      .prepare("SELECT coalesce(sum(count), 0) FROM usage_daily WHERE key_id = ? AND day >= ? AND day <= ?")
      .pluck();
    this.lastUsed = db.prepare("SELECT last_used FROM keys WHERE id = ?").pluck();
    this.admitTx = db.transaction((keyId: string, limit: number, now: number): Admission => {
      const step = gcraStep((getTat.get(keyId) as number | undefined) ?? null, limit, now);
      if (step.tat !== null) setTat.run(keyId, step.tat);
      return step.admission;
    });
  }

  async admit(keyId: string, limitPerMinute: number, now: number): Promise<Admission> {
    const admission = this.admitTx(keyId, limitPerMinute, now);
    if (admission.allowed) this.ledger.count(keyId, now);
    return admission;
  }

  async usage(keyId: string, now: number): Promise<Usage> {
    this.ledger.flush();
    const day = utcDay(now);
    return {
      requestsToday: (this.today.get(keyId, day) as number | undefined) ?? 0,
      requestsThisMonth: this.month.get(keyId, `${day.slice(0, 7)}-01`, `${day.slice(0, 7)}-31`) as number,
      lastUsed: (this.lastUsed.get(keyId) as number | null | undefined) ?? null,
    };
  }
}
