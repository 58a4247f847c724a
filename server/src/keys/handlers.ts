import { defaultPermissions } from "../auth/permissions.js";
import type { ServerConfig } from "../config.js";
import { type Handlers, keyOf, type RequestInput } from "../http/operation.js";
import { decodeCursor, page } from "../http/pagination.js";
import { ProblemError } from "../http/problem.js";
import type { KeyChanges, KeyRecord, Store } from "../store/store.js";
import { isoOrNull } from "../timestamps.js";
import { createKey, rotateKey } from "./create-key.js";
import { dailyUsage } from "./daily-usage.js";
import { futureTime } from "./expiry.js";
import { assertWithinGrant, grantDefaults } from "./grant.js";
import { presentKey } from "./present.js";

/** Handlers for the `/keys` operations. Key administration needs admin:all (enforced from the spec). */
export function keyHandlers(store: Store, config: ServerConfig): Handlers {
  /** The key named in the path, if the caller's workspace scope lets it see it (404 otherwise). */
  async function visibleKey(input: RequestInput): Promise<KeyRecord> {
    const caller = keyOf(input);
    const id = input.params.key_id ?? "";
    const key = id === caller.id ? caller : await store.keys.get(id);
    if (!key || (caller.workspaceId !== null && key.workspaceId !== caller.workspaceId)) {
      throw new ProblemError("not_found", `No key ${id} is visible to this key.`);
    }
    return key;
  }

  return {
    createKey: async (input) => {
      const caller = keyOf(input);
      const { body } = input;
      const workspaceId = body.workspace_id ?? caller.workspaceId;
      if (caller.workspaceId !== null && workspaceId !== caller.workspaceId) {
        throw new ProblemError("not_found", `No workspace ${workspaceId} is visible to this key.`);
      }
      const defaults = grantDefaults(caller, config, body.type);
      const grant = {
        type: defaults.type,
        permissions: body.permissions ?? [...defaultPermissions],
        rateLimit: body.rate_limit ?? defaults.rateLimit,
        expiresAt: body.expires_at === undefined ? defaults.expiresAt : futureTime(body.expires_at, input.now),
      };
      assertWithinGrant(caller, grant);
      const created = await createKey(store, config, input.now, {
        name: body.name,
        workspaceId,
        ...grant,
        maxUnrevokedInWorkspace: config.maxKeysPerWorkspace,
      });
      return { body: { ...presentKey(created.key), api_key: created.apiKey } };
    },

    updateKey: async (input) => {
      const key = await visibleKey(input);
      if (key.revokedAt !== null) {
        throw new ProblemError(
          "key_revoked",
          `Key ${key.id} is revoked and cannot be changed; create a new key instead.`,
        );
      }
      const { body } = input;
      const changes: KeyChanges = {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.permissions !== undefined ? { permissions: body.permissions } : {}),
        ...(body.rate_limit !== undefined ? { rateLimit: body.rate_limit } : {}),
        ...(body.expires_at !== undefined
          ? { expiresAt: body.expires_at === null ? null : futureTime(body.expires_at, input.now) }
          : {}),
      };
      // The rule judges the key as it would be afterwards, exactly as for a new key.
      assertWithinGrant(keyOf(input), { ...key, ...changes });
      const updated = await store.keys.update(key.id, changes);
      if (!updated) throw new ProblemError("not_found", `No key ${key.id} is visible to this key.`);
      return { body: presentKey(updated) };
    },

    listKeys: async (input) => {
      const caller = keyOf(input);
      const { limit } = input.query;
      const before = decodeCursor(input.query.cursor);
      // A scoped administrator pages through its own workspace's keys only.
      const items = await store.keys.list({
        limit: limit + 1,
        ...(before ? { before } : {}),
        ...(caller.workspaceId !== null ? { workspaceId: caller.workspaceId } : {}),
      });
      const result = page(input, items, limit, (k) => k.id);
      return { body: result.body.map(presentKey), headers: result.headers };
    },

    verifyKey: async (input) => {
      const key = keyOf(input);
      return {
        body: {
          valid: true,
          key_id: key.id,
          name: key.name,
          type: key.type,
          workspace_id: key.workspaceId,
          permissions: key.permissions,
          rate_limit: key.rateLimit,
          expires_at: isoOrNull(key.expiresAt),
        },
      };
    },

    getKey: async (input) => ({ body: presentKey(await visibleKey(input)) }),

    revokeKey: async (input) => {
      const key = await visibleKey(input);
      const revoked = await store.keys.revoke(key.id, input.now);
      return { body: presentKey(revoked ?? key) };
    },

    getKeyUsage: async (input) => {
      const key = await visibleKey(input);
      const usage = await store.requests.usage(key.id, input.now);
      return {
        body: {
          key_id: key.id,
          requests_today: usage.requestsToday,
          requests_this_month: usage.requestsThisMonth,
          rate_limit: key.rateLimit,
          last_used: isoOrNull(usage.lastUsed),
          // Only when asked: without `days` the body stays the five documented fields.
          ...(input.query.days === undefined
            ? {}
            : { daily: await dailyUsage(store, key.id, input.query.days, input.now) }),
        },
      };
    },

    rotateKey: async (input) => {
      const key = await visibleKey(input);
      const { body } = input;
      const grace = Math.min(body.grace_period_seconds, config.maxRotationGraceSeconds);
      const rotated = await rotateKey(store, key, input.now, grace);
      if (!rotated) throw new ProblemError("not_found", `No key ${key.id} is visible to this key.`);
      return { body: rotated };
    },
  };
}
