import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../logger.js";
import { extractArchive } from "./extract.js";
import type { ArchiveLimits } from "./limits.js";
import { parseWorkspaceUpload, type WorkspaceUpload } from "./multipart.js";
import { workspaceFilesDir } from "./paths.js";
import { replaceDirectoryAtomically } from "./swap.js";
import type { WorkspaceFiles } from "./workspace-files.js";

/**
 * The server's workspace files: `<dataDir>/workspaces/<id>`. An upload is written to `<dataDir>/tmp`,
 * extracted beside the workspace's directory and swapped in, so a directory is never half-written.
 * @example workspaceHandlers({ …, files: diskWorkspaceFiles(config.dataDir, limits, logger) })
 */
export function diskWorkspaceFiles(
  dataDir: string,
  limits: ArchiveLimits,
  logger: Pick<Logger, "error">,
): WorkspaceFiles<WorkspaceUpload> {
  const tmpDir = join(dataDir, "tmp");
  return {
    receive: (request, requireName) => parseWorkspaceUpload(request, { tmpDir, requireName, limits }),
    replace: (id, upload, caps, check) =>
      replaceDirectoryAtomically(workspaceFilesDir(dataDir, id), async (tmp) => {
        const counts = await extractArchive(upload.archivePath, tmp, caps);
        await check(counts);
        return counts;
      }),
    async remove(id) {
      const dir = workspaceFilesDir(dataDir, id);
      await rm(dir, { recursive: true, force: true }).catch((err: unknown) =>
        logger.error({ err, dir }, "could not remove workspace files"),
      );
    },
  };
}
