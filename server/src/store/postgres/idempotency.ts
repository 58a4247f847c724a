import type pg from "pg";
import {
  type ClaimLease,
  existingRecord,
  type IdempotencyRecord,
  type IdempotencyRepo,
  mayTakeOver,
  type StoredClaim,
} from "../idempotency-repo.js";
import { row, transaction } from "./database.js";

// Expired records are swept a bounded batch at a time, by whichever claim comes along.
const SWEEP_BATCH = 100;

/** Stored first responses of POSTs, by (API key, Idempotency-Key), in PostgreSQL. */
export class PostgresIdempotencyRepo implements IdempotencyRepo {
  constructor(private readonly pool: pg.Pool) {}

  async claim(
    scope: string,
    key: string,
    fingerprint: string,
    now: number,
    ttlMs: number,
    lease: ClaimLease,
  ): Promise<IdempotencyRecord | null> {
    await this.pool.query(
      "DELETE FROM idempotency WHERE ctid IN (SELECT ctid FROM idempotency WHERE expires_at <= $1 LIMIT $2)",
      [now, SWEEP_BATCH],
    );
    return transaction(this.pool, async (client) => {
      const leaseUntil = now + lease.leaseMs;
      await client.query("DELETE FROM idempotency WHERE scope = $1 AND key = $2 AND expires_at <= $3", [
        scope,
        key,
        now,
      ]);
      // The primary key decides between replicas: a second insert waits for the first one's commit, then
      // inserts nothing.
      const inserted = await client.query(
        `INSERT INTO idempotency (scope, key, fingerprint, expires_at, owner, lease_until)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [scope, key, fingerprint, now + ttlMs, lease.owner, leaseUntil],
      );
      if (inserted.rowCount === 1) return null;
      const current = await row<StoredClaim>(
        client,
        "SELECT fingerprint, status, body, content_type, lease_until FROM idempotency WHERE scope = $1 AND key = $2 FOR UPDATE",
        [scope, key],
      );
      if (!current) return null;
      if (mayTakeOver(current, fingerprint, now)) {
        await client.query(
          "UPDATE idempotency SET owner = $3, lease_until = $4, expires_at = $5 WHERE scope = $1 AND key = $2",
          [scope, key, lease.owner, leaseUntil, now + ttlMs],
        );
        return null;
      }
      return existingRecord(current);
    });
  }

  async renew(scope: string, key: string, lease: ClaimLease, now: number): Promise<void> {
    await this.pool.query(
      "UPDATE idempotency SET lease_until = $4 WHERE scope = $1 AND key = $2 AND status IS NULL AND owner = $3",
      [scope, key, lease.owner, now + lease.leaseMs],
    );
  }

  async complete(scope: string, key: string, response: { status: number; body: string; contentType: string }) {
    await this.pool.query(
      `UPDATE idempotency SET status = $3, body = $4, content_type = $5, owner = NULL, lease_until = NULL
       WHERE scope = $1 AND key = $2`,
      [scope, key, response.status, response.body, response.contentType],
    );
  }

  async release(scope: string, key: string): Promise<void> {
    await this.pool.query("DELETE FROM idempotency WHERE scope = $1 AND key = $2 AND status IS NULL", [scope, key]);
  }

  async releaseOwnedBy(owner: string): Promise<number> {
    const released = await this.pool.query("DELETE FROM idempotency WHERE status IS NULL AND owner = $1", [owner]);
    return released.rowCount ?? 0;
  }
}
