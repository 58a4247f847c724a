import type { Logger } from "../logger.js";
import type { JobRecord } from "../store/jobs-repo.js";
import { workspaceFilesDir } from "../workspaces/paths.js";
import type { PresetCatalog } from "../workspaces/presets.js";
import { copiesWorkspace } from "./rules.js";
import { measureSandbox, provisionSandbox, removeSandbox } from "./sandbox.js";
import { packSandbox } from "./sandbox-archive.js";
import { recordSandboxBase, removeSandboxBase, sandboxChanges } from "./sandbox-changes.js";
import type { SandboxFiles } from "./sandbox-files.js";
import { sandboxBaseFile, sandboxDir } from "./sandbox-paths.js";
import { presetForPath } from "./workspace-lookup.js";

/**
 * The server's sandboxes: directories under `<dataDir>/sandboxes`, each with its base record under
 * `<dataDir>/sandbox-bases` (see `sandbox-changes.ts`).
 * @example jobHandlers({ …, sandboxes: diskSandboxFiles(config.dataDir, logger) })
 */
export function diskSandboxFiles(dataDir: string, presets: PresetCatalog, logger: Pick<Logger, "error">): SandboxFiles {
  return {
    path: (sandboxId) => sandboxDir(dataDir, sandboxId),
    async provision(sandboxId, job, fresh) {
      const path = sandboxDir(dataDir, sandboxId);
      // A test key's simulated job gets an empty sandbox unless asked for a copy (#15: disk).
      await provisionSandbox(path, fresh && copiesWorkspace(job) ? sandboxSourceDir(dataDir, presets, job) : null);
      if (fresh) await recordSandboxBase(path, sandboxBaseFile(dataDir, sandboxId));
    },
    measure: (sandboxId) => measureSandbox(sandboxDir(dataDir, sandboxId)),
    async remove(sandboxId) {
      await removeSandbox(sandboxDir(dataDir, sandboxId));
      await removeSandboxBase(sandboxBaseFile(dataDir, sandboxId));
    },
    async archive(sandboxId) {
      const stream = await packSandbox(sandboxId === null ? null : sandboxDir(dataDir, sandboxId));
      stream.on("error", (err: unknown) => logger.error({ err, sandbox_id: sandboxId }, "archiving a sandbox failed"));
      return stream;
    },
    changes: (sandboxId) => sandboxChanges(sandboxDir(dataDir, sandboxId), sandboxBaseFile(dataDir, sandboxId)),
  };
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
