import type Database from "better-sqlite3";
import type { AuthenticatedKey } from "../keys-repo.js";

/** Most keys remembered; past it the oldest entry goes (a flood of distinct keys cannot grow memory). */
export const KEY_CACHE_ENTRIES = 10_000;

/**
 * Keys found by secret hash (never the secret: only its SHA-256, as stored), whether live or not, so the
 * hot path skips the join and the JSON parse of permissions. Exact on the next request after any change:
 * the owner clears it on its own writes, and `PRAGMA data_version` — which changes when another connection
 * (the CLI's `keys revoke` in another process) commits to the file — clears it before a lookup.
 */
export class KeyCache {
  private readonly entries = new Map<string, AuthenticatedKey>();
  private readonly dataVersion;
  private seen: unknown;

  constructor(db: Database.Database) {
    this.dataVersion = db.prepare("PRAGMA data_version").pluck();
    this.seen = this.dataVersion.get();
  }

  get(secretHash: string): AuthenticatedKey | undefined {
    const version = this.dataVersion.get();
    if (version !== this.seen) {
      this.seen = version;
      this.entries.clear();
      return undefined;
    }
    return this.entries.get(secretHash);
  }

  set(secretHash: string, key: AuthenticatedKey): void {
    if (this.entries.size >= KEY_CACHE_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(secretHash, key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The same test the SQL lookup applies: not revoked, key not expired, this secret not past its grace. */
export const isLive = (key: AuthenticatedKey, now: number): boolean =>
  key.revokedAt === null &&
  (key.expiresAt === null || key.expiresAt > now) &&
  (key.secretExpiresAt === null || key.secretExpiresAt > now);
