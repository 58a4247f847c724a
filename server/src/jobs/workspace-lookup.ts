import type { Store } from "../store/store.js";

/** The prefix of every workspace `path` (`/workspaces/<name>`). */
const PATH_PREFIX = "/workspaces/";

/**
 * The workspace id of a `spec.workspace_path`, or null when no workspace has that path. The one place the
 * jobs feature turns a path into a workspace: the name after `/workspaces/`, looked up by the workspaces
 * repository.
 */
export async function workspaceIdForPath(store: Store, path: string): Promise<string | null> {
  if (!path.startsWith(PATH_PREFIX)) return null;
  const workspace = await store.workspaces.getByName(path.slice(PATH_PREFIX.length));
  return workspace?.id ?? null;
}
