import type Database from "better-sqlite3";
import { utcDay } from "../gcra.js";

const DAY_MS = 86_400_000;

/** Other state written behind in the same transaction as the counts (the rate limits of a server alone). */
export interface WriteBehind {
  /** Whether anything waits to be written. */
  dirty(): boolean;
  /** Writes it; runs inside the flush's transaction, so it is kept only if the whole flush commits. */
  write(): void;
  /** Called once the flush has committed. */
  written(): void;
}

/** One key's admitted requests since the last flush. */
interface Pending {
  /** UTC day → requests counted under it. */
  days: Map<string, number>;
  lastUsed: number;
}

/**
 * Usage counters and `last_used` of admitted requests, kept in memory and written to SQLite in one
 * transaction per flush instead of two writes per request (issue 11, item 1: they were most of the hot
 * path's write transaction). Every reader of usage or `last_used` flushes first, so reads are exact at any
 * moment; the store flushes on close (the server's SIGTERM path) and every `flushMs`, so a SIGKILL loses at
 * most the last interval's counts. Only this process writes these rows while it runs (the CLI reads them).
 */
export class UsageLedger {
  private pending = new Map<string, Pending>();
  private readonly bump;
  private readonly touch;
  private readonly timer: NodeJS.Timeout | null;
  // toISOString() per request showed in profiles: the day's string is reused until the next UTC midnight.
  private dayStart = 0;
  private day = "";
  private readonly behind: WriteBehind[] = [];

  constructor(
    private readonly db: Database.Database,
    flushMs: number,
    /** Called after a flush wrote rows (the key cache drops records whose `last_used` it made stale). */
    private readonly onFlush: () => void = () => {},
  ) {
    this.bump = db.prepare(
      "INSERT INTO usage_daily (key_id, day, count) VALUES (?, ?, ?) ON CONFLICT (key_id, day) DO UPDATE SET count = count + excluded.count",
    );
    this.touch = db.prepare("UPDATE keys SET last_used = max(coalesce(last_used, 0), ?) WHERE id = ?");
    this.timer = flushMs > 0 ? setInterval(() => this.flushQuietly(), flushMs) : null;
    // The timer must not keep a process alive that has nothing else to do (the CLI, tests).
    this.timer?.unref();
  }

  /** Writes `state` with every flush from now on. */
  attach(state: WriteBehind): void {
    this.behind.push(state);
  }

  /** Counts one admitted request of `keyId` at `now`. */
  count(keyId: string, now: number): void {
    if (now < this.dayStart || now >= this.dayStart + DAY_MS) {
      this.dayStart = now - (now % DAY_MS);
      this.day = utcDay(now);
    }
    let entry = this.pending.get(keyId);
    if (!entry) {
      entry = { days: new Map(), lastUsed: now };
      this.pending.set(keyId, entry);
    }
    entry.days.set(this.day, (entry.days.get(this.day) ?? 0) + 1);
    if (now > entry.lastUsed) entry.lastUsed = now;
  }

  /** The latest admitted request of `keyId` not yet flushed, if any. */
  pendingLastUsed(keyId: string): number | undefined {
    return this.pending.get(keyId)?.lastUsed;
  }

  /** Writes everything counted so far in one transaction. On failure nothing is lost: it stays pending. */
  flush(): void {
    if (!this.db.open) return;
    const behind = this.behind.filter((state) => state.dirty());
    if (this.pending.size === 0 && behind.length === 0) return;
    const batch = this.pending;
    this.db.transaction(() => {
      for (const [keyId, entry] of batch) {
        for (const [day, count] of entry.days) this.bump.run(keyId, day, count);
        this.touch.run(entry.lastUsed, keyId);
      }
      for (const state of behind) state.write();
    })();
    // The transaction is synchronous: nothing was counted while it ran, so the whole map was written.
    for (const state of behind) state.written();
    if (batch.size === 0) return;
    this.pending = new Map();
    this.onFlush();
  }

  /** Flushes and stops the timer (the store's close). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.flush();
  }

  private flushQuietly(): void {
    try {
      this.flush();
    } catch {
      // Busy or read-only for a moment (another process's long write): the counts stay pending for the next
      // flush, and a reader's flush reports the error.
    }
  }
}
