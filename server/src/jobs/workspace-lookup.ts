import type { JobRecord } from "../store/jobs-repo.js";
import type { Store } from "../store/store.js";
import { workspaceFilesDir } from "../workspaces/paths.js";
import type { PresetCatalog, PresetWorkspace } from "../workspaces/presets.js";

/** The prefix of every workspace `path` (`/workspaces/<name>`). */
const PATH_PREFIX = "/workspaces/";

const nameOf = (path: string): string | null => (path.startsWith(PATH_PREFIX) ? path.slice(PATH_PREFIX.length) : null);

/**
 * The workspace id of a `spec.workspace_path`, or null when no workspace has that path. The one place the
 * jobs feature turns a path into a workspace: the name after `/workspaces/`, looked up by the workspaces
 * repository.
 */
export async function workspaceIdForPath(store: Store, path: string): Promise<string | null> {
  const name = nameOf(path);
  if (name === null) return null;
  const workspace = await store.workspaces.getByName(name);
  return workspace?.id ?? null;
}

/** The pre-configured workspace at a `spec.workspace_path`, if it names one (presets win over uploads). */
export function presetForPath(presets: PresetCatalog, path: string | undefined): PresetWorkspace | undefined {
  const name = path === undefined ? null : nameOf(path);
  return name === null ? undefined : presets.byName(name);
}

/**
 * Where a job's first sandbox is copied from: the preset its `workspace_path` names, else its workspace's
 * files, else nothing (an empty sandbox).
 */
export function sandboxSourceDir(dataDir: string, presets: PresetCatalog, job: JobRecord): string | null {
  const preset = presetForPath(presets, job.spec.workspace_path);
  if (preset) return preset.dir;
  return job.workspaceId ? workspaceFilesDir(dataDir, job.workspaceId) : null;
}
