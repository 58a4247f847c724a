import { grants } from "../auth/permissions.js";
import type { ServerConfig } from "../config.js";
import { ProblemError } from "../http/problem.js";
import type { KeyRecord, KeyType } from "../store/store.js";

/** The settings of a key that the calling key's own authority bounds (issue 15, item 3). */
export type KeyGrant = Pick<KeyRecord, "type" | "permissions" | "rateLimit" | "expiresAt">;

/**
 * What `POST /keys` fills in for fields the caller left out: its own type, the type's default limit but
 * never above its own, and its own expiry. With these defaults a key made without options always passes
 * {@link assertWithinGrant}.
 */
export function grantDefaults(caller: KeyRecord, config: Pick<ServerConfig, "rateLimits">, type?: KeyType) {
  const keyType = type ?? caller.type;
  return {
    type: keyType,
    rateLimit: Math.min(config.rateLimits[keyType], caller.rateLimit),
    expiresAt: caller.expiresAt,
  };
}

/**
 * The one rule for creating and for updating a key: the resulting key is never more than the caller.
 * Same type (a test key cannot mint a live one), permissions the caller holds, a rate limit no higher
 * and an expiry no later than its own. Throws 403 naming every excess, so one fix makes the call pass.
 */
export function assertWithinGrant(caller: KeyGrant, key: KeyGrant): void {
  const excess: string[] = [];
  if (key.type !== caller.type) {
    excess.push(`a ${caller.type} key manages ${caller.type} keys only, not ${key.type} ones`);
  }
  const missing = key.permissions.filter((p) => !grants(caller.permissions, p));
  if (missing.length > 0) excess.push(`it would grant ${missing.join(", ")}, which the calling key does not hold`);
  if (key.rateLimit > caller.rateLimit) {
    excess.push(`rate_limit ${key.rateLimit} is above the calling key's own ${caller.rateLimit}`);
  }
  if (caller.expiresAt !== null && (key.expiresAt === null || key.expiresAt > caller.expiresAt)) {
    excess.push(
      `it would outlive the calling key, which expires at ${new Date(caller.expiresAt).toISOString()}; give an expires_at no later`,
    );
  }
  if (excess.length > 0) {
    throw new ProblemError(
      "forbidden",
      `A key can hand out no more than it holds: ${excess.join("; ")}. Use a key that holds more, or ask for less.`,
    );
  }
}
