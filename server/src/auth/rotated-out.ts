import { ProblemError } from "../http/problem.js";
import type { AuthenticatedKey } from "../store/store.js";
import { ADMIN } from "./permissions.js";

/**
 * A secret in its rotation grace period authenticates ordinary calls only (issue 15, item 2). Otherwise
 * whoever holds a leaked old secret could rotate the key again with grace 0, locking the owner out and
 * keeping the only valid secret, or mint new keys. So it may not call any operation that needs
 * `admin:all`, except reading its own key's record and usage (self-access).
 */
export function refuseRotatedOutAdministration(key: AuthenticatedKey, permission: string | null, own: boolean): void {
  if (key.secretExpiresAt === null || permission !== ADMIN || own) return;
  throw new ProblemError(
    "forbidden",
    `This secret of key ${key.id} was rotated out and only works for ordinary calls until ${new Date(key.secretExpiresAt).toISOString()}; key administration needs the key's current secret.`,
    { missing_permission: ADMIN },
  );
}
