import { PERMISSIONS } from "../generated/constants.js";
import type { components } from "../generated/schema.js";

export type Permission = components["schemas"]["Permission"];

/** Every permission, in the spec's order (`components.schemas.Permission`). */
export const allPermissions: readonly Permission[] = PERMISSIONS;

export const ADMIN: Permission = "admin:all";

/** What a key gets when it is created without `--permissions`: "full API access", but not key administration. */
export const defaultPermissions: readonly Permission[] = allPermissions.filter((p) => p !== ADMIN);

export function isPermission(value: string): value is Permission {
  return (allPermissions as readonly string[]).includes(value);
}

/** `admin:all` implies every permission. */
export function grants(held: readonly Permission[], needed: Permission): boolean {
  return held.includes(needed) || held.includes(ADMIN);
}
