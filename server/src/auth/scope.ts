import type { KeyRecord } from "../store/store.js";

/**
 * Whether a key may see objects of a workspace. A key without a workspace sees all; a scoped key sees
 * only its own. Callers answer 404 (never 403) otherwise, so other workspaces' objects do not leak.
 */
export function canSee(key: KeyRecord, workspaceId: string | null): boolean {
  return key.workspaceId === null || key.workspaceId === workspaceId;
}
