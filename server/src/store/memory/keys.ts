import type { AuthenticatedKey, KeyChanges, KeyRecord, KeyRepo, NewKey } from "../keys-repo.js";
import type { PageQuery } from "../page.js";
import { type MemoryTables, pageByIdDesc } from "./tables.js";

/** API keys and their secrets (hashes only), in memory. */
export class MemoryKeyRepo implements KeyRepo {
  constructor(private readonly t: MemoryTables) {}

  async create(key: NewKey, maxUnrevoked = Number.POSITIVE_INFINITY): Promise<KeyRecord | null> {
    let unrevoked = 0;
    for (const k of this.t.keys.values()) if (k.workspaceId === key.workspaceId && k.revokedAt === null) unrevoked++;
    if (unrevoked >= maxUnrevoked) return null;
    const { secretHash, ...fields } = key;
    const record: KeyRecord = { ...structuredClone(fields), lastUsed: null, revokedAt: null };
    this.t.keys.set(key.id, record);
    this.t.secrets.set(secretHash, { keyId: key.id, createdAt: key.createdAt, expiresAt: null });
    return structuredClone(record);
  }

  async get(id: string): Promise<KeyRecord | null> {
    return this.read(id);
  }

  async findBySecretHash(secretHash: string, now: number): Promise<AuthenticatedKey | null> {
    const secret = this.t.secrets.get(secretHash);
    const key = secret && this.t.keys.get(secret.keyId);
    if (!secret || !key || key.revokedAt !== null) return null;
    if ((key.expiresAt !== null && key.expiresAt <= now) || (secret.expiresAt !== null && secret.expiresAt <= now)) {
      return null;
    }
    return { ...structuredClone(key), secretExpiresAt: secret.expiresAt };
  }

  async update(id: string, changes: KeyChanges): Promise<KeyRecord | null> {
    const key = this.t.keys.get(id);
    if (!key) return null;
    if (changes.name !== undefined) key.name = changes.name;
    if (changes.permissions !== undefined) key.permissions = [...changes.permissions];
    if (changes.rateLimit !== undefined) key.rateLimit = changes.rateLimit;
    if (changes.expiresAt !== undefined) key.expiresAt = changes.expiresAt;
    return this.read(id);
  }

  async list({ limit, before, workspaceId }: PageQuery & { workspaceId?: string }): Promise<KeyRecord[]> {
    const rows = [...this.t.keys.values()].filter((k) => workspaceId === undefined || k.workspaceId === workspaceId);
    return structuredClone(pageByIdDesc(rows, limit, before));
  }

  async count(): Promise<number> {
    return this.t.keys.size;
  }

  async revoke(id: string, now: number): Promise<KeyRecord | null> {
    const key = this.t.keys.get(id);
    if (key) key.revokedAt ??= now;
    return this.read(id);
  }

  async rotate(
    id: string,
    secret: { secretHash: string; prefix: string },
    previousExpiresAt: number,
    now: number,
  ): Promise<KeyRecord | null> {
    const key = this.t.keys.get(id);
    if (!key) return null;
    for (const row of this.t.secrets.values()) {
      if (row.keyId === id) row.expiresAt = Math.min(row.expiresAt ?? previousExpiresAt, previousExpiresAt);
    }
    this.t.secrets.set(secret.secretHash, { keyId: id, createdAt: now, expiresAt: null });
    key.prefix = secret.prefix;
    return this.read(id);
  }

  private read(id: string): KeyRecord | null {
    const key = this.t.keys.get(id);
    return key ? structuredClone(key) : null;
  }
}
