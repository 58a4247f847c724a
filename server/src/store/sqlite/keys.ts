import type Database from "better-sqlite3";
import type { AuthenticatedKey, KeyChanges, KeyRecord, KeyRepo, NewKey } from "../keys-repo.js";
import type { PageQuery } from "../page.js";
import { type KeyRow, toRecord } from "../sql/key-rows.js";
import { isLive, KeyCache } from "./key-cache.js";
import type { UsageLedger } from "./usage-ledger.js";

/**
 * API keys and their secrets (hashes only). Lookups by secret go through a {@link KeyCache}, cleared by every
 * write here; readers of `last_used` flush the usage ledger first (or add what it holds), so they are exact.
 */
export class SqliteKeyRepo implements KeyRepo {
  private readonly insertKey;
  private readonly insertSecret;
  private readonly byId;
  private readonly byHash;
  private readonly page;
  private readonly total;
  private readonly setRevoked;
  private readonly setPrefix;
  private readonly expireSecrets;
  private readonly unrevokedIn;
  private readonly setSettings;

  readonly cache;

  constructor(
    private readonly db: Database.Database,
    private readonly ledger: UsageLedger,
  ) {
    this.cache = new KeyCache(db);
    this.insertKey = db.prepare(
      `INSERT INTO keys (id, name, type, prefix, workspace_id, permissions, rate_limit, created_at, expires_at)
       VALUES (@id, @name, @type, @prefix, @workspace_id, @permissions, @rate_limit, @created_at, @expires_at)`,
    );
    this.insertSecret = db.prepare(
      "INSERT INTO key_secrets (secret_hash, key_id, created_at, expires_at) VALUES (?, ?, ?, NULL)",
    );
    this.byId = db.prepare("SELECT * FROM keys WHERE id = ?");
    this.byHash = db.prepare(
      `SELECT k.*, s.expires_at AS secret_expires_at FROM key_secrets s JOIN keys k ON k.id = s.key_id
       WHERE s.secret_hash = ?`,
    );
    this.page = db.prepare(
      `SELECT * FROM keys WHERE id < @before AND (@workspace IS NULL OR workspace_id = @workspace)
       ORDER BY id DESC LIMIT @limit`,
    );
    this.total = db.prepare("SELECT count(*) AS n FROM keys");
    this.setRevoked = db.prepare("UPDATE keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?");
    this.setPrefix = db.prepare("UPDATE keys SET prefix = ? WHERE id = ?");
    this.expireSecrets = db.prepare(
      "UPDATE key_secrets SET expires_at = min(coalesce(expires_at, @at), @at) WHERE key_id = @id",
    );
    // `IS` compares NULL equal to NULL: keys without a workspace share one count.
    this.unrevokedIn = db.prepare("SELECT count(*) AS n FROM keys WHERE workspace_id IS ? AND revoked_at IS NULL");
    this.setSettings = db.prepare(
      `UPDATE keys SET name = coalesce(@name, name), permissions = coalesce(@permissions, permissions),
         rate_limit = coalesce(@rate_limit, rate_limit),
         expires_at = CASE WHEN @set_expiry THEN @expires_at ELSE expires_at END
       WHERE id = @id`,
    );
  }

  async create(key: NewKey, maxUnrevoked = Number.POSITIVE_INFINITY): Promise<KeyRecord | null> {
    const created = this.db.transaction(() => {
      if ((this.unrevokedIn.get(key.workspaceId) as { n: number }).n >= maxUnrevoked) return false;
      this.insertKey.run({
        id: key.id,
        name: key.name,
        type: key.type,
        prefix: key.prefix,
        workspace_id: key.workspaceId,
        permissions: JSON.stringify(key.permissions),
        rate_limit: key.rateLimit,
        created_at: key.createdAt,
        expires_at: key.expiresAt,
      });
      this.insertSecret.run(key.secretHash, key.id, key.createdAt);
      return true;
    })();
    return created ? this.mustGet(key.id) : null;
  }

  async get(id: string): Promise<KeyRecord | null> {
    this.ledger.flush();
    const row = this.byId.get(id) as KeyRow | undefined;
    return row ? toRecord(row) : null;
  }

  async findBySecretHash(secretHash: string, now: number): Promise<AuthenticatedKey | null> {
    let key = this.cache.get(secretHash);
    if (!key) {
      const row = this.byHash.get(secretHash) as (KeyRow & { secret_expires_at: number | null }) | undefined;
      // Unknown hashes are not remembered: a flood of made-up keys must not push out the real ones.
      if (!row) return null;
      key = { ...toRecord(row), secretExpiresAt: row.secret_expires_at };
      this.cache.set(secretHash, key);
    }
    if (!isLive(key, now)) return null;
    // A copy (callers may keep it), with the last use the ledger has not written yet.
    const pending = this.ledger.pendingLastUsed(key.id);
    return pending === undefined || (key.lastUsed ?? 0) >= pending ? { ...key } : { ...key, lastUsed: pending };
  }

  async update(id: string, changes: KeyChanges): Promise<KeyRecord | null> {
    this.cache.clear();
    this.setSettings.run({
      id,
      name: changes.name ?? null,
      permissions: changes.permissions ? JSON.stringify(changes.permissions) : null,
      rate_limit: changes.rateLimit ?? null,
      set_expiry: changes.expiresAt === undefined ? 0 : 1,
      expires_at: changes.expiresAt ?? null,
    });
    return this.get(id);
  }

  async list({ limit, before, workspaceId }: PageQuery & { workspaceId?: string }): Promise<KeyRecord[]> {
    this.ledger.flush();
    // "~" sorts after every id, so it stands for "from the newest".
    const rows = this.page.all({ before: before ?? "~", workspace: workspaceId ?? null, limit }) as KeyRow[];
    return rows.map(toRecord);
  }

  async count(): Promise<number> {
    return (this.total.get() as { n: number }).n;
  }

  async revoke(id: string, now: number): Promise<KeyRecord | null> {
    this.setRevoked.run(now, id);
    this.cache.clear();
    return this.get(id);
  }

  async rotate(
    id: string,
    secret: { secretHash: string; prefix: string },
    previousExpiresAt: number,
    now: number,
  ): Promise<KeyRecord | null> {
    const done = this.db.transaction(() => {
      const row = this.byId.get(id) as KeyRow | undefined;
      if (!row) return false;
      this.expireSecrets.run({ id, at: previousExpiresAt });
      this.insertSecret.run(secret.secretHash, id, now);
      this.setPrefix.run(secret.prefix, id);
      return true;
    })();
    this.cache.clear();
    return done ? this.mustGet(id) : null;
  }

  private mustGet(id: string): KeyRecord {
    this.ledger.flush();
    return toRecord(this.byId.get(id) as KeyRow);
  }
}
