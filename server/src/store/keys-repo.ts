import type { Permission } from "../auth/permissions.js";
import type { PageQuery } from "./page.js";

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
