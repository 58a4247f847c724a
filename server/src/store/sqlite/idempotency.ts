import type Database from "better-sqlite3";
import type { IdempotencyRecord, IdempotencyRepo } from "../store.js";

interface Row {
  fingerprint: string;
  status: number | null;
  body: string | null;
  content_type: string | null;
}

/** Stored first responses of POSTs, by (API key, Idempotency-Key), for 24 h. */
export class SqliteIdempotencyRepo implements IdempotencyRepo {
  private readonly claimTx;
  private readonly completeStmt;
  private readonly releaseStmt;

  constructor(db: Database.Database) {
    const purge = db.prepare("DELETE FROM idempotency WHERE expires_at <= ?");
    const insert = db.prepare(
      "INSERT OR IGNORE INTO idempotency (scope, key, fingerprint, expires_at) VALUES (?, ?, ?, ?)",
    );
    const select = db.prepare(
      "SELECT fingerprint, status, body, content_type FROM idempotency WHERE scope = ? AND key = ?",
    );
    this.claimTx = db.transaction(
      (scope: string, key: string, fingerprint: string, now: number, ttlMs: number): IdempotencyRecord | null => {
        purge.run(now);
        if (insert.run(scope, key, fingerprint, now + ttlMs).changes === 1) return null;
        const row = select.get(scope, key) as Row;
        return {
          fingerprint: row.fingerprint,
          response:
            row.status === null
              ? null
              : { status: row.status, body: row.body ?? "", contentType: row.content_type ?? "" },
        };
      },
    );
    this.completeStmt = db.prepare(
      "UPDATE idempotency SET status = ?, body = ?, content_type = ? WHERE scope = ? AND key = ?",
    );
    this.releaseStmt = db.prepare("DELETE FROM idempotency WHERE scope = ? AND key = ? AND status IS NULL");
  }

  async claim(scope: string, key: string, fingerprint: string, now: number, ttlMs: number) {
    return this.claimTx(scope, key, fingerprint, now, ttlMs);
  }

  async complete(scope: string, key: string, response: { status: number; body: string; contentType: string }) {
    this.completeStmt.run(response.status, response.body, response.contentType, scope, key);
  }

  async release(scope: string, key: string) {
    this.releaseStmt.run(scope, key);
  }
}
