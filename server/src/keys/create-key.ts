import { generateApiKey, hashApiKey } from "../auth/key-format.js";
import { defaultPermissions, type Permission } from "../auth/permissions.js";
import type { ServerConfig } from "../config.js";
import { newId } from "../ids.js";
import type { KeyRecord, KeyType, Store } from "../store/store.js";

export interface CreateKeyInput {
  name: string;
  type?: KeyType;
  workspaceId?: string | null;
  permissions?: readonly Permission[];
  rateLimit?: number;
  expiresAt?: number | null;
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
  const type = input.type ?? "live";
  const { apiKey, prefix } = generateApiKey(type);
  const key = await store.keys.create({
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
  });
  return { key, apiKey };
}

/** Issues a new secret for a key; the previous ones keep working for `graceSeconds`. */
export async function rotateKey(store: Store, key: KeyRecord, now: number, graceSeconds: number) {
  const { apiKey, prefix } = generateApiKey(key.type);
  const previousExpiresAt = now + graceSeconds * 1000;
  const rotated = await store.keys.rotate(key.id, { secretHash: hashApiKey(apiKey), prefix }, previousExpiresAt, now);
  return rotated ? { key: rotated, apiKey, previousExpiresAt } : null;
}
