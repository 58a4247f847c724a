import type Database from "better-sqlite3";
import { gcraStep, utcDay } from "../gcra.js";
import type { Admission, DayCount, RequestRepo, Usage } from "../requests-repo.js";
import type { UsageLedger } from "./usage-ledger.js";

/** Most keys whose TAT is remembered (the fast path of keys beyond it takes the transaction). */
const KNOWN_TATS = 10_000;

/**
 * Per-key GCRA rate limiting and UTC day/month usage counters (counted in the {@link UsageLedger}, flushed
 * before every read). Two modes:
 * - **shared** (default): the file is the one truth; each admission writes the TAT (a compare-and-set), so
 *   the limit is exact whoever else admits requests from the file.
 * - **alone** (`alone`: the server, which holds the file's serve lock, so no other process admits requests
 *   from it): the TATs live in this process and are written with the usage flush, so an admission writes
 *   nothing (issue 11: that write was the hot path's largest cost). Exact, since every admission of the file
 *   goes through this map; a SIGKILL loses at most one flush interval of TAT advances, as it does of counts.
 */
export class SqliteRequestRepo implements RequestRepo {
  private readonly today;
  private readonly month;
  private readonly lastUsed;
  private readonly days;
  private readonly admitTx;
  private readonly swapTat;
  /**
   * Key id → TAT. Shared: the TAT this process last read or stored, a guess the compare-and-set checks, never
   * trusted. Alone: the truth for every key in it (loaded from the file on a key's first request).
   */
  private readonly tats = new Map<string, number>();
  /** Alone: keys whose TAT changed since the last flush. */
  private readonly unwritten = new Set<string>();
  private readonly getTat;
  private readonly setTat;

  constructor(
    db: Database.Database,
    private readonly ledger: UsageLedger,
    private readonly alone = false,
  ) {
    const getTat = db.prepare("SELECT tat FROM rate_limits WHERE key_id = ?").pluck();
    this.getTat = getTat;
    const setTat = db.prepare(
      "INSERT INTO rate_limits (key_id, tat) VALUES (?, ?) ON CONFLICT (key_id) DO UPDATE SET tat = excluded.tat",
    );
    this.today = db.prepare("SELECT count FROM usage_daily WHERE key_id = ? AND day = ?").pluck();
    this.month = db
      .prepare("SELECT coalesce(sum(count), 0) FROM usage_daily WHERE key_id = ? AND day >= ? AND day <= ?")
      .pluck();
    this.lastUsed = db.prepare("SELECT last_used FROM keys WHERE id = ?").pluck();
    // Compare-and-set: stores the new TAT only if the row still holds the one the decision was made from.
    this.swapTat = db.prepare("UPDATE rate_limits SET tat = ? WHERE key_id = ? AND tat = ?");
    this.days = db.prepare(
      "SELECT day, count FROM usage_daily WHERE key_id = ? AND day >= ? AND day <= ? ORDER BY day",
    );
    this.admitTx = db.transaction((keyId: string, limit: number, now: number): Admission => {
      const stored = (getTat.get(keyId) as number | undefined) ?? null;
      const step = gcraStep(stored, limit, now);
      if (step.tat !== null) setTat.run(keyId, step.tat);
      this.remember(keyId, step.tat ?? stored);
      return step.admission;
    });
    this.setTat = setTat;
    if (alone)
      ledger.attach({
        dirty: () => this.unwritten.size > 0,
        write: () => {
          for (const keyId of this.unwritten) setTat.run(keyId, this.tats.get(keyId));
        },
        written: () => this.unwritten.clear(),
      });
  }

  async admit(keyId: string, limitPerMinute: number, now: number): Promise<Admission> {
    const admission = this.decide(keyId, limitPerMinute, now);
    if (admission.allowed) this.ledger.count(keyId, now);
    return admission;
  }

  /**
   * The fast path decides from the TAT this process last stored and writes with one compare-and-set statement
   * instead of a read-modify-write transaction (issue 11). It can only admit: if another connection moved
   * the TAT meanwhile, the set changes no row and the transaction decides; a refusal (rare, and its
   * Retry-After must come from the stored TAT) always goes to the transaction too. So the database stays the
   * one truth and the limit stays exact across processes.
   */
  private decide(keyId: string, limit: number, now: number): Admission {
    if (this.alone) return this.decideAlone(keyId, limit, now);
    const known = this.tats.get(keyId);
    if (known !== undefined) {
      const step = gcraStep(known, limit, now);
      if (step.tat !== null && this.swapTat.run(step.tat, keyId, known).changes === 1) {
        this.tats.set(keyId, step.tat);
        return step.admission;
      }
    }
    return this.admitTx(keyId, limit, now);
  }

  /** The serve lock's mode: the map is the truth; nothing is written until the next flush. */
  private decideAlone(keyId: string, limit: number, now: number): Admission {
    let stored = this.tats.get(keyId);
    if (stored === undefined) {
      stored = this.getTat.get(keyId) as number | undefined;
      if (stored !== undefined) this.remember(keyId, stored);
    }
    const step = gcraStep(stored ?? null, limit, now);
    if (step.tat !== null) {
      this.remember(keyId, step.tat);
      this.unwritten.add(keyId);
    }
    return step.admission;
  }

  private remember(keyId: string, tat: number | null): void {
    if (tat === null) return;
    if (!this.tats.has(keyId) && this.tats.size >= KNOWN_TATS) {
      const oldest = this.tats.keys().next().value;
      if (oldest !== undefined) {
        // Alone, the map is the truth: a TAT not yet written is written before it is forgotten.
        if (this.unwritten.delete(oldest)) this.setTat.run(oldest, this.tats.get(oldest));
        this.tats.delete(oldest);
      }
    }
    this.tats.set(keyId, tat);
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

  async daily(keyId: string, fromDay: string, toDay: string): Promise<DayCount[]> {
    this.ledger.flush();
    return this.days.all(keyId, fromDay, toDay) as DayCount[];
  }
}
