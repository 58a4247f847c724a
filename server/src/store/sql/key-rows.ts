import type { Permission } from "../../auth/permissions.js";
import type { KeyRecord, KeyType } from "../keys-repo.js";

// The `keys` rows as the SQL stores return them (JSON as text, times as numbers), and their records.

export interface KeyRow {
  id: string;
  name: string;
  type: KeyType;
  prefix: string;
  workspace_id: string | null;
  permissions: string;
  rate_limit: number;
  created_at: number;
  last_used: number | null;
  revoked_at: number | null;
  expires_at: number | null;
}

export const toRecord = (row: KeyRow): KeyRecord => ({
  id: row.id,
  name: row.name,
  type: row.type,
  prefix: row.prefix,
  workspaceId: row.workspace_id,
  permissions: JSON.parse(row.permissions) as Permission[],
  rateLimit: row.rate_limit,
  createdAt: row.created_at,
  lastUsed: row.last_used,
  revokedAt: row.revoked_at,
  expiresAt: row.expires_at,
});
