import { ProblemError } from "./problem.js";
import type { ApiKey } from "./records.js";

/** The settings of a key that the calling key's own authority bounds. */
export type KeyGrant = Pick<ApiKey, "type" | "permissions" | "rate_limit" | "expires_at">;

const holds = (held: readonly string[], wanted: string) => held.includes(wanted) || held.includes("admin:all");
const time = (iso: string | null) => (iso === null ? Number.POSITIVE_INFINITY : Date.parse(iso));

/**
 * The spec's "Key administration" rule, for both `POST /keys` and `PATCH /keys/{key_id}`: the resulting
 * key is never more than the caller (same type, permissions it holds, no higher limit, no later expiry).
 */
export function assertWithinGrant(caller: ApiKey, key: KeyGrant): void {
  const excess: string[] = [];
  if (key.type !== caller.type) excess.push(`a ${caller.type} key manages ${caller.type} keys only`);
  const missing = key.permissions.filter((p) => !holds(caller.permissions, p));
  if (missing.length > 0) excess.push(`it would grant ${missing.join(", ")}, which the calling key does not hold`);
  if (key.rate_limit > caller.rate_limit) {
    excess.push(`rate_limit ${key.rate_limit} is above the calling key's own ${caller.rate_limit}`);
  }
  if (time(key.expires_at) > time(caller.expires_at)) excess.push("it would outlive the calling key");
  if (excess.length > 0) {
    throw new ProblemError("forbidden", `A key can hand out no more than it holds: ${excess.join("; ")}.`);
  }
}
