import { generateApiKey, hashApiKey, parseApiKey } from "../auth/key-format.js";
import { defaultPermissions, type Permission } from "../auth/permissions.js";
import type { ServerConfig } from "../config.js";
import { ProblemError } from "../http/problem.js";
import { newId } from "../ids.js";
import type { KeyRecord, KeyType, Store } from "../store/store.js";
import { iso } from "../timestamps.js";
import { presentKey } from "./present.js";
import { refusePresetWorkspace } from "./workspace-scope.js";

export interface CreateKeyInput {
  name: string;
  type?: KeyType;
  workspaceId?: string | null;
  permissions?: readonly Permission[];
  rateLimit?: number;
  expiresAt?: number | null;
  /** This well-formed secret instead of a new one (`@knify/sdk/testing`'s fixed `adminKey`); it sets the type. */
  apiKey?: string;
  /** Refuse (409 `key_limit_reached`) when the key's workspace already holds this many unrevoked keys. */
  maxUnrevokedInWorkspace?: number;
}

/**
 * Creates a key and returns its secret, the only time it exists outside the caller's hands: the store
 * keeps a SHA-256 hash and a display prefix. Shared by `POST /keys`, the CLI and first-start bootstrap.
 */
export async function createKey(
  store: Store,
  config: Pick<ServerConfig, "rateLimits">,
  now: number,
  input: CreateKeyInput,
): Promise<{ key: KeyRecord; apiKey: string }> {
  refusePresetWorkspace(input.workspaceId ?? null);
  const given = input.apiKey === undefined ? null : parseApiKey(input.apiKey);
  if (input.apiKey !== undefined && given === null) {
    throw new Error("apiKey must be a well-formed Knify key (knify_live_… or knify_test_…, with its checksum).");
  }
  const type = given?.type ?? input.type ?? "live";
  const { apiKey, prefix } =
    input.apiKey === undefined ? generateApiKey(type) : { apiKey: input.apiKey, prefix: input.apiKey.slice(0, 15) };
  const key = await store.keys.create(
    {
      id: newId("key"),
      name: input.name,
      type,
      prefix,
      workspaceId: input.workspaceId ?? null,
      permissions: [...new Set(input.permissions ?? defaultPermissions)],
      rateLimit: input.rateLimit ?? config.rateLimits[type],
      createdAt: now,
      expiresAt: input.expiresAt ?? null,
      secretHash: hashApiKey(apiKey),
    },
    input.maxUnrevokedInWorkspace,
  );
  if (!key) {
    const where = input.workspaceId ? `Workspace ${input.workspaceId}` : "The keys without a workspace";
    throw new ProblemError(
      "key_limit_reached",
      `${where} already hold${input.workspaceId ? "s" : ""} ${input.maxUnrevokedInWorkspace} unrevoked keys, the limit (KNIFY_MAX_KEYS_PER_WORKSPACE); revoke keys that are no longer used first.`,
    );
  }
  return { key, apiKey };
}

/**
 * Issues a new secret for a key; the previous ones keep working for `graceSeconds`. The one rotation rule,
 * for `POST /keys/{key_id}/rotate` and `knify-server keys rotate` alike: a revoked key (409 `key_revoked`)
 * or an expired one (409 `key_expired`: a new secret would not work either) is not rotated. Returns the key
 * as the API shows it, with its new secret; null when the key is gone.
 */
export async function rotateKey(store: Store, key: KeyRecord, now: number, graceSeconds: number) {
  if (key.revokedAt !== null) {
    throw new ProblemError("key_revoked", `Key ${key.id} is revoked and cannot be rotated; create a new key instead.`);
  }
  if (key.expiresAt !== null && key.expiresAt <= now) {
    throw new ProblemError(
      "key_expired",
      `Key ${key.id} expired at ${iso(key.expiresAt)} and cannot be rotated: a new secret would not work either. Create a new key instead.`,
    );
  }
  const { apiKey, prefix } = generateApiKey(key.type);
  const previousExpiresAt = now + graceSeconds * 1000;
  const rotated = await store.keys.rotate(key.id, { secretHash: hashApiKey(apiKey), prefix }, previousExpiresAt, now);
  if (!rotated) return null;
  return { ...presentKey(rotated), api_key: apiKey, previous_secret_expires_at: iso(previousExpiresAt) };
}
