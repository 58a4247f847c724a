import type { Permission } from "../auth/permissions.js";
import type { JobRepo } from "./jobs-repo.js";
import type { SandboxRepo } from "./sandboxes-repo.js";
import type { WebhookRepo } from "./webhooks-repo.js";
import type { WorkspaceRepo } from "./workspaces-repo.js";

/**
 * Everything the server persists goes through this interface; nothing outside `store/` knows SQL.
 * Every method is one atomic unit (one transaction in SQLite), so a crash never leaves half a write,
 * and every method is async so that a networked store (PostgreSQL) can implement it later.
 * The rate limiter, usage counters and idempotency records live here too, not in process memory,
 * so that several replicas on one database stay exact.
 */
export interface Store {
  readonly keys: KeyRepo;
  readonly requests: RequestRepo;
  readonly idempotency: IdempotencyRepo;
  readonly workspaces: WorkspaceRepo;
  readonly jobs: JobRepo;
  readonly webhooks: WebhookRepo;
  readonly sandboxes: SandboxRepo;
  close(): Promise<void>;
}

export type KeyType = "live" | "test";

/** An API key without its secret. Times are epoch milliseconds. */
export interface KeyRecord {
  id: string;
  name: string;
  type: KeyType;
  prefix: string;
  workspaceId: string | null;
  permissions: Permission[];
  rateLimit: number;
  createdAt: number;
  lastUsed: number | null;
  revokedAt: number | null;
  expiresAt: number | null;
}

export interface NewKey extends Omit<KeyRecord, "lastUsed" | "revokedAt"> {
  secretHash: string;
}

/** A key as found by one of its secrets, with when that secret stops working. */
export interface AuthenticatedKey extends KeyRecord {
  /** Null for the key's current secret; a time for a rotated-out secret in its grace period. */
  secretExpiresAt: number | null;
}

/** The settings `PATCH /keys/{key_id}` may change; absent fields keep their value. */
export interface KeyChanges {
  name?: string;
  permissions?: Permission[];
  rateLimit?: number;
  expiresAt?: number | null;
}

/** Newest first, strictly after `cursor` (an id) when given. */
export interface PageQuery {
  limit: number;
  before?: string;
}

export interface KeyRepo {
  /**
   * Inserts the key, unless its workspace (keys without one count together) already holds `maxUnrevoked`
   * unrevoked keys: then null. Count and insert are one transaction, so concurrent creates cannot overshoot.
   */
  create(key: NewKey, maxUnrevoked?: number): Promise<KeyRecord | null>;
  get(id: string): Promise<KeyRecord | null>;
  /** The live key whose current or still-in-grace secret has this hash; null when none (or revoked/expired). */
  findBySecretHash(secretHash: string, now: number): Promise<AuthenticatedKey | null>;
  /** Changes settings in place; null when there is no such key. */
  update(id: string, changes: KeyChanges): Promise<KeyRecord | null>;
  list(page: PageQuery & { workspaceId?: string }): Promise<KeyRecord[]>;
  count(): Promise<number>;
  /** Idempotent; null when there is no such key. */
  revoke(id: string, now: number): Promise<KeyRecord | null>;
  /** Adds a new current secret; the previous ones expire at `previousExpiresAt` (if earlier than they already do). */
  rotate(
    id: string,
    secret: { secretHash: string; prefix: string },
    previousExpiresAt: number,
    now: number,
  ): Promise<KeyRecord | null>;
}

/** The outcome of admitting one request against a key's per-minute limit. */
export interface Admission {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms at which the full limit is available again. */
  resetAt: number;
  /** When refused: ms until one request would be allowed. */
  retryAfterMs: number;
}

export interface Usage {
  requestsToday: number;
  requestsThisMonth: number;
  lastUsed: number | null;
}

export interface RequestRepo {
  /**
   * GCRA over a one-minute period: allows at most `limitPerMinute` requests in any 60 s, with no double
   * burst at a window edge. An admitted request is counted in the key's UTC day/month usage and
   * `last_used`; a refused one consumes and counts nothing. Atomic, so exact under concurrency.
   */
  admit(keyId: string, limitPerMinute: number, now: number): Promise<Admission>;
  usage(keyId: string, now: number): Promise<Usage>;
}

export interface IdempotencyRecord {
  fingerprint: string;
  /** Null while the first request is still being handled. */
  response: { status: number; body: string; contentType: string } | null;
}

/** Who holds an unfinished idempotency claim, and for how long it holds without being renewed. */
export interface ClaimLease {
  /** The replica id of the process handling the request. */
  owner: string;
  leaseMs: number;
}

export interface IdempotencyRepo {
  /**
   * Claims the key for this request; returns the existing record instead when the key was used within the
   * TTL. An unfinished claim of the same request whose lease has run out is taken over (returns null).
   */
  claim(
    scope: string,
    key: string,
    fingerprint: string,
    now: number,
    ttlMs: number,
    lease: ClaimLease,
  ): Promise<IdempotencyRecord | null>;
  /** Extends the lease of a claim this owner still holds, while its request runs. */
  renew(scope: string, key: string, lease: ClaimLease, now: number): Promise<void>;
  complete(scope: string, key: string, response: { status: number; body: string; contentType: string }): Promise<void>;
  /** Releases a claim whose request failed with a server error, so that a retry can run. */
  release(scope: string, key: string): Promise<void>;
  /**
   * Releases every unfinished claim of this owner: called at start, when any claim under this replica id
   * was left by a process that died. Returns how many were released.
   */
  releaseOwnedBy(owner: string): Promise<number>;
}
