import type { KeyRecord, Store } from "../store/store.js";
import type { PresetCatalog, PresetWorkspace } from "../workspaces/presets.js";

/** The prefix of every workspace `path` (`/workspaces/<name>`). */
const PATH_PREFIX = "/workspaces/";

const nameOf = (path: string): string | null => (path.startsWith(PATH_PREFIX) ? path.slice(PATH_PREFIX.length) : null);

/**
 * The workspace id of a `spec.workspace_path` as `key` sees it, or null when it names none. The one place the
 * jobs feature turns a path into a workspace. Names are unique per namespace (see the workspaces repo): a
 * workspace-scoped key's path names its own workspace; a key without a workspace's names one of the shared
 * namespace, else the only workspace anywhere with that name.
 */
export async function workspaceIdForPath(store: Store, path: string, key: KeyRecord): Promise<string | null> {
  if (!path.startsWith(PATH_PREFIX)) return null;
  const name = path.slice(PATH_PREFIX.length);
  if (key.workspaceId !== null) {
    const own = await store.workspaces.get(key.workspaceId);
    return own?.name === name ? own.id : null;
  }
  const shared = await store.workspaces.getByName(name, null);
  if (shared) return shared.id;
  const named = await store.workspaces.listByName(name, 2);
  return named.length === 1 ? (named[0]?.id ?? null) : null;
}

/** The pre-configured workspace at a `spec.workspace_path`, if it names one (presets win over uploads). */
export function presetForPath(presets: PresetCatalog, path: string | undefined): PresetWorkspace | undefined {
  const name = path === undefined ? null : nameOf(path);
  return name === null ? undefined : presets.byName(name);
}
