import { futureTime } from "../../../../server/src/keys/expiry.js";
import { assertWithinGrant } from "../../../../server/src/keys/grant.js";
import { refusePresetWorkspace } from "../../../../server/src/keys/workspace-scope.js";
import { findVisible, type MockRequest, type OperationHandlers, ok } from "../context.js";
import { pageNewestFirst } from "../paging.js";
import { notFound, ProblemError } from "../problem.js";
import type { ApiKey, KeyRecord } from "../records.js";
import type { MockState, SeedKey } from "../state.js";

const DEFAULT_RATE_LIMIT = { live: 1000, test: 100 } as const;

/** The key named in the path, if the caller's workspace scope lets it see it (404 otherwise, as the server). */
const visibleKey = (state: MockState, req: MockRequest): KeyRecord =>
  findVisible(state.keys, String(req.params.key_id), (rec) => rec.key.workspace_id, req.key, "key");

/** A key's settings as the server's grant rule (server/src/keys/grant.ts) reads them. */
const asGrant = (key: Pick<ApiKey, "type" | "permissions" | "rate_limit" | "expires_at">) => ({
  type: key.type,
  permissions: key.permissions,
  rateLimit: key.rate_limit,
  expiresAt: key.expires_at === null ? null : Date.parse(key.expires_at),
});

/** Keys: create, list, verify, get, update, revoke, usage and rotate. */
export const keyHandlers: OperationHandlers = {
  createKey(req, state) {
    const caller = (req.key as KeyRecord).key;
    const body = req.body as SeedKey & { name: string };
    const workspaceId = body.workspace_id ?? caller.workspace_id;
    if (caller.workspace_id !== null && workspaceId !== caller.workspace_id)
      throw notFound("workspace", String(workspaceId));
    refusePresetWorkspace(workspaceId ?? null);
    if (body.expires_at) futureTime(body.expires_at, state.now().getTime());
    const type = body.type ?? caller.type;
    const grant = {
      type,
      permissions: body.permissions ?? state.options.permissions.filter((p) => p !== "admin:all"),
      rate_limit: body.rate_limit ?? Math.min(DEFAULT_RATE_LIMIT[type], caller.rate_limit),
      expires_at: body.expires_at ?? caller.expires_at,
    };
    assertWithinGrant(asGrant(caller), asGrant(grant));
    const unrevoked = [...state.keys.values()].filter(
      (rec) => rec.key.workspace_id === workspaceId && rec.key.revoked_at === null,
    ).length;
    if (unrevoked >= state.options.maxKeysPerWorkspace) {
      throw new ProblemError(
        "key_limit_reached",
        `The workspace already holds ${unrevoked} unrevoked keys, the limit; revoke unused keys first.`,
      );
    }
    return ok(state.createKey({ ...body, ...grant, workspace_id: workspaceId }));
  },

  updateKey(req, state) {
    const rec = visibleKey(state, req);
    if (rec.key.revoked_at !== null) {
      throw new ProblemError("key_revoked", `Key ${rec.key.key_id} is revoked and cannot be changed.`);
    }
    const changes = req.body as Partial<Pick<ApiKey, "name" | "permissions" | "rate_limit" | "expires_at">>;
    // The server's rule: an expiry must be a future time this server can represent.
    if (changes.expires_at) futureTime(changes.expires_at, state.now().getTime());
    const updated = { ...rec.key, ...changes };
    assertWithinGrant(asGrant((req.key as KeyRecord).key), asGrant(updated));
    rec.key = updated;
    return ok(rec.key);
  },

  listKeys(req, state) {
    // A scoped administrator pages through its own workspace's keys only (as the server).
    const scope = (req.key as KeyRecord).key.workspace_id;
    const visible = [...state.keys.values()].filter((rec) => scope === null || rec.key.workspace_id === scope);
    const page = pageNewestFirst(visible, (rec) => rec.order, req.query, req.url);
    return ok(
      page.items.map((rec) => rec.key),
      page.headers,
    );
  },

  verifyKey(req) {
    // The router authenticated the caller; verification is just its own record.
    const { key } = req.key as KeyRecord;
    const { key_id, name, type, workspace_id, permissions, rate_limit, expires_at } = key;
    return ok({ valid: true, key_id, name, type, workspace_id, permissions, rate_limit, expires_at });
  },

  getKey(req, state) {
    return ok(visibleKey(state, req).key);
  },

  revokeKey(req, state) {
    const rec = visibleKey(state, req);
    state.revokeKey(rec.key.key_id);
    return ok(rec.key);
  },

  getKeyUsage(req, state) {
    const { key, usage } = visibleKey(state, req);
    const iso = state.now().toISOString();
    return ok({
      key_id: key.key_id,
      requests_today: usage.day === iso.slice(0, 10) ? usage.today : 0,
      requests_this_month: usage.month === iso.slice(0, 7) ? usage.thisMonth : 0,
      rate_limit: key.rate_limit,
      last_used: key.last_used,
    });
  },

  rotateKey(req, state) {
    const rec = visibleKey(state, req);
    const { grace_period_seconds } = req.body as { grace_period_seconds?: number };
    return ok(state.rotateKey(rec.key.key_id, grace_period_seconds));
  },
};
