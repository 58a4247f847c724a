import type Database from "better-sqlite3";
import {
  type ClaimLease,
  existingRecord,
  type IdempotencyRecord,
  type IdempotencyRepo,
  mayTakeOver,
  type StoredClaim,
} from "../idempotency-repo.js";

/** Stored first responses of POSTs, by (API key, Idempotency-Key), for 24 h. */
export class SqliteIdempotencyRepo implements IdempotencyRepo {
  private readonly claimTx;
  private readonly completeStmt;
  private readonly releaseStmt;
  private readonly renewStmt;
  private readonly releaseOwnerStmt;

  constructor(db: Database.Database) {
    const purge = db.prepare("DELETE FROM idempotency WHERE expires_at <= ?");
    const insert = db.prepare(
      "INSERT OR IGNORE INTO idempotency (scope, key, fingerprint, expires_at, owner, lease_until) VALUES (?, ?, ?, ?, ?, ?)",
    );
    const select = db.prepare(
      "SELECT fingerprint, status, body, content_type, lease_until FROM idempotency WHERE scope = ? AND key = ?",
    );
    const takeOver = db.prepare(
      "UPDATE idempotency SET owner = ?, lease_until = ?, expires_at = ? WHERE scope = ? AND key = ? AND status IS NULL",
    );
    this.claimTx = db.transaction(
      (
        scope: string,
        key: string,
        fingerprint: string,
        now: number,
        ttlMs: number,
        lease: ClaimLease,
      ): IdempotencyRecord | null => {
        purge.run(now);
        const leaseUntil = now + lease.leaseMs;
        if (insert.run(scope, key, fingerprint, now + ttlMs, lease.owner, leaseUntil).changes === 1) return null;
        const row = select.get(scope, key) as StoredClaim;
        if (mayTakeOver(row, fingerprint, now)) {
          takeOver.run(lease.owner, leaseUntil, now + ttlMs, scope, key);
          return null;
        }
        return existingRecord(row);
      },
    );
    this.completeStmt = db.prepare(
      "UPDATE idempotency SET status = ?, body = ?, content_type = ?, owner = NULL, lease_until = NULL WHERE scope = ? AND key = ?",
    );
    this.releaseStmt = db.prepare("DELETE FROM idempotency WHERE scope = ? AND key = ? AND status IS NULL");
    this.renewStmt = db.prepare(
      "UPDATE idempotency SET lease_until = ? WHERE scope = ? AND key = ? AND status IS NULL AND owner = ?",
    );
    this.releaseOwnerStmt = db.prepare("DELETE FROM idempotency WHERE status IS NULL AND owner = ?");
  }

  async claim(scope: string, key: string, fingerprint: string, now: number, ttlMs: number, lease: ClaimLease) {
    return this.claimTx(scope, key, fingerprint, now, ttlMs, lease);
  }

  async renew(scope: string, key: string, lease: ClaimLease, now: number) {
    this.renewStmt.run(now + lease.leaseMs, scope, key, lease.owner);
  }

  async complete(scope: string, key: string, response: { status: number; body: string; contentType: string }) {
    this.completeStmt.run(response.status, response.body, response.contentType, scope, key);
  }

  async release(scope: string, key: string) {
    this.releaseStmt.run(scope, key);
  }

  async releaseOwnedBy(owner: string) {
    return this.releaseOwnerStmt.run(owner).changes;
  }
}
