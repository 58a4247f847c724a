import { type MockRequest, type OperationHandlers, ok } from "../context.js";
import { pageNewestFirst } from "../paging.js";
import { notFound } from "../problem.js";
import type { KeyRecord } from "../records.js";
import type { MockState, SeedKey } from "../state.js";

function keyOf(state: MockState, req: MockRequest): KeyRecord {
  const id = String(req.params.key_id);
  const rec = state.keys.get(id);
  if (!rec) throw notFound("key", id);
  return rec;
}

/** Keys: create, list, verify, get, revoke, usage and rotate. */
export const keyHandlers: OperationHandlers = {
  createKey(req, state) {
    return ok(state.createKey(req.body as SeedKey));
  },

  listKeys(req, state) {
    const page = pageNewestFirst(state.keys.values(), (rec) => rec.order, req.query, req.url);
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
    return ok(keyOf(state, req).key);
  },

  revokeKey(req, state) {
    const rec = keyOf(state, req);
    state.revokeKey(rec.key.key_id);
    return ok(rec.key);
  },

  getKeyUsage(req, state) {
    const { key, usage } = keyOf(state, req);
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
    const rec = keyOf(state, req);
    const { grace_period_seconds } = req.body as { grace_period_seconds?: number };
    return ok(state.rotateKey(rec.key.key_id, grace_period_seconds));
  },
};
