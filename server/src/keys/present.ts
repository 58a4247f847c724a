import type { components } from "../generated/schema.js";
import type { KeyRecord } from "../store/store.js";
import { iso, isoOrNull } from "../timestamps.js";

type Schemas = components["schemas"];

/** A key as the API shows it (never with a secret). */
export function presentKey(key: KeyRecord): Schemas["ApiKey"] {
  return {
    key_id: key.id,
    name: key.name,
    type: key.type,
    prefix: key.prefix,
    workspace_id: key.workspaceId,
    permissions: key.permissions,
    rate_limit: key.rateLimit,
    created_at: iso(key.createdAt),
    last_used: isoOrNull(key.lastUsed),
    revoked_at: isoOrNull(key.revokedAt),
    expires_at: isoOrNull(key.expiresAt),
  };
}
