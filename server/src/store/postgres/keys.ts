import type pg from "pg";
import type { AuthenticatedKey, KeyChanges, KeyRecord, KeyRepo, NewKey } from "../keys-repo.js";
import type { PageQuery } from "../page.js";
import { type KeyRow, toRecord } from "../sql/key-rows.js";
import { lockFor, row, rows, transaction } from "./database.js";

/** API keys and their secrets (hashes only), in PostgreSQL. */
export class PostgresKeyRepo implements KeyRepo {
  constructor(private readonly pool: pg.Pool) {}

  async create(key: NewKey, maxUnrevoked = Number.POSITIVE_INFINITY): Promise<KeyRecord | null> {
    return transaction(this.pool, async (client) => {
      // Creates in one workspace take turns, so the count and the insert cannot be overtaken by a replica.
      await lockFor(client, `keys:${key.workspaceId ?? ""}`);
      const unrevoked = await row<{ n: number }>(
        client,
        "SELECT count(*) AS n FROM keys WHERE workspace_id IS NOT DISTINCT FROM $1 AND revoked_at IS NULL",
        [key.workspaceId],
      );
      if ((unrevoked?.n ?? 0) >= maxUnrevoked) return null;
      const created = await row<KeyRow>(
        client,
        `INSERT INTO keys (id, name, type, prefix, workspace_id, permissions, rate_limit, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
        [
          key.id,
          key.name,
          key.type,
          key.prefix,
          key.workspaceId,
          JSON.stringify(key.permissions),
          key.rateLimit,
          key.createdAt,
          key.expiresAt,
        ],
      );
      await client.query("INSERT INTO key_secrets (secret_hash, key_id, created_at) VALUES ($1, $2, $3)", [
        key.secretHash,
        key.id,
        key.createdAt,
      ]);
      return created ? toRecord(created) : null;
    });
  }

  async get(id: string): Promise<KeyRecord | null> {
    const found = await row<KeyRow>(this.pool, "SELECT * FROM keys WHERE id = $1", [id]);
    return found ? toRecord(found) : null;
  }

  async findBySecretHash(secretHash: string, now: number): Promise<AuthenticatedKey | null> {
    const found = await row<KeyRow & { secret_expires_at: number | null }>(
      this.pool,
      `SELECT k.*, s.expires_at AS secret_expires_at FROM key_secrets s JOIN keys k ON k.id = s.key_id
       WHERE s.secret_hash = $1 AND k.revoked_at IS NULL
         AND (k.expires_at IS NULL OR k.expires_at > $2) AND (s.expires_at IS NULL OR s.expires_at > $2)`,
      [secretHash, now],
    );
    return found ? { ...toRecord(found), secretExpiresAt: found.secret_expires_at } : null;
  }

  async update(id: string, changes: KeyChanges): Promise<KeyRecord | null> {
    const updated = await row<KeyRow>(
      this.pool,
      `UPDATE keys SET name = coalesce($2, name), permissions = coalesce($3, permissions),
         rate_limit = coalesce($4, rate_limit), expires_at = CASE WHEN $5 THEN $6::bigint ELSE expires_at END
       WHERE id = $1 RETURNING *`,
      [
        id,
        changes.name ?? null,
        changes.permissions ? JSON.stringify(changes.permissions) : null,
        changes.rateLimit ?? null,
        changes.expiresAt !== undefined,
        changes.expiresAt ?? null,
      ],
    );
    return updated ? toRecord(updated) : null;
  }

  async list({ limit, before, workspaceId }: PageQuery & { workspaceId?: string }): Promise<KeyRecord[]> {
    const found = await rows<KeyRow>(
      this.pool,
      `SELECT * FROM keys WHERE ($1::text IS NULL OR id < $1) AND ($2::text IS NULL OR workspace_id = $2)
       ORDER BY id DESC LIMIT $3`,
      [before ?? null, workspaceId ?? null, limit],
    );
    return found.map(toRecord);
  }

  async count(): Promise<number> {
    return (await row<{ n: number }>(this.pool, "SELECT count(*) AS n FROM keys"))?.n ?? 0;
  }

  async revoke(id: string, now: number): Promise<KeyRecord | null> {
    const revoked = await row<KeyRow>(
      this.pool,
      "UPDATE keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING *",
      [id, now],
    );
    return revoked ? toRecord(revoked) : null;
  }

  async rotate(
    id: string,
    secret: { secretHash: string; prefix: string },
    previousExpiresAt: number,
    now: number,
  ): Promise<KeyRecord | null> {
    return transaction(this.pool, async (client) => {
      const rotated = await row<KeyRow>(client, "UPDATE keys SET prefix = $2 WHERE id = $1 RETURNING *", [
        id,
        secret.prefix,
      ]);
      if (!rotated) return null;
      await client.query("UPDATE key_secrets SET expires_at = least(coalesce(expires_at, $2), $2) WHERE key_id = $1", [
        id,
        previousExpiresAt,
      ]);
      await client.query("INSERT INTO key_secrets (secret_hash, key_id, created_at) VALUES ($1, $2, $3)", [
        secret.secretHash,
        id,
        now,
      ]);
      return toRecord(rotated);
    });
  }
}
