import {
  type ClaimLease,
  existingRecord,
  type IdempotencyRecord,
  type IdempotencyRepo,
  mayTakeOver,
} from "../idempotency-repo.js";
import type { MemoryTables } from "./tables.js";

const slot = (scope: string, key: string) => `${scope}\u0000${key}`;

/** Stored first responses of POSTs, by (API key, Idempotency-Key), in memory. */
export class MemoryIdempotencyRepo implements IdempotencyRepo {
  /** When the next sweep of expired records is due: one pass a minute, not one per claim (O(n) each). */
  private nextSweepAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly t: MemoryTables) {}

  /** Drops expired records at most once a minute of the clock; lookups treat an expired record as absent meanwhile. */
  private sweep(now: number): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + 60_000;
    for (const [at, row] of this.t.idempotency) if (row.expiresAt <= now) this.t.idempotency.delete(at);
  }

  async claim(
    scope: string,
    key: string,
    fingerprint: string,
    now: number,
    ttlMs: number,
    lease: ClaimLease,
  ): Promise<IdempotencyRecord | null> {
    this.sweep(now);
    const leaseUntil = now + lease.leaseMs;
    const found = this.t.idempotency.get(slot(scope, key));
    const row = found && found.expiresAt > now ? found : undefined;
    if (!row) {
      this.t.idempotency.set(slot(scope, key), {
        fingerprint,
        status: null,
        body: null,
        content_type: null,
        expiresAt: now + ttlMs,
        owner: lease.owner,
        lease_until: leaseUntil,
      });
      return null;
    }
    if (mayTakeOver(row, fingerprint, now)) {
      Object.assign(row, { owner: lease.owner, lease_until: leaseUntil, expiresAt: now + ttlMs });
      return null;
    }
    return existingRecord(row);
  }

  async renew(scope: string, key: string, lease: ClaimLease, now: number): Promise<void> {
    const row = this.t.idempotency.get(slot(scope, key));
    if (row && row.status === null && row.owner === lease.owner) row.lease_until = now + lease.leaseMs;
  }

  async complete(scope: string, key: string, response: { status: number; body: string; contentType: string }) {
    const row = this.t.idempotency.get(slot(scope, key));
    if (!row) return;
    Object.assign(row, {
      status: response.status,
      body: response.body,
      content_type: response.contentType,
      owner: null,
      lease_until: null,
    });
  }

  async release(scope: string, key: string): Promise<void> {
    if (this.t.idempotency.get(slot(scope, key))?.status === null) this.t.idempotency.delete(slot(scope, key));
  }

  async releaseOwnedBy(owner: string): Promise<number> {
    let released = 0;
    for (const [at, row] of this.t.idempotency) {
      if (row.status === null && row.owner === owner) {
        this.t.idempotency.delete(at);
        released++;
      }
    }
    return released;
  }
}
