import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { FeatureModule, ModuleDeps } from "../module.js";
import { diskWorkspaceFiles } from "./disk-workspace-files.js";
import { workspaceHandlers } from "./handlers.js";
import { readArchiveLimits } from "./limits.js";
import { readDiskQuota } from "./quota-setting.js";

/**
 * The workspaces feature: upload, list, get, replace and delete (`/workspaces`). Reads its caps from
 * `KNIFY_WORKSPACE_MAX_BYTES` (compressed archive), `KNIFY_WORKSPACE_MAX_EXTRACTED_BYTES`,
 * `KNIFY_WORKSPACE_MAX_ENTRIES`, `KNIFY_WORKSPACE_MAX_COMPRESSION_RATIO` and the disk quota
 * (`KNIFY_WORKSPACE_DISK_QUOTA_BYTES`); an invalid value fails the start with a `ConfigError`.
 *
 * @example
 * const workspaces = createWorkspacesModule({ store, config, clock, logger, env: process.env });
 */
export function createWorkspacesModule(deps: ModuleDeps): FeatureModule {
  const limits = readArchiveLimits(deps.env);
  const diskQuotaBytes = readDiskQuota(deps.env);
  const createdAt = Date.now();
  return {
    handlers: workspaceHandlers({
      ...deps,
      limits,
      diskQuotaBytes,
      files: diskWorkspaceFiles(deps.config.dataDir, limits, deps.logger),
    }),
    async start() {
      await removeStaleTempFiles(deps.config.dataDir, createdAt).catch((err: unknown) =>
        deps.logger.warn({ err }, "could not remove stale workspace temp files"),
      );
    },
  };
}

/**
 * Removes what a crash left behind: uploaded archives in `<dataDir>/tmp` and the half-built or set-aside
 * trees of a swap in `<dataDir>/workspaces`. Only entries older than this process are touched, so an upload
 * that started meanwhile keeps its files.
 */
async function removeStaleTempFiles(dataDir: string, olderThan: number): Promise<void> {
  const candidates = [
    ...(await entries(join(dataDir, "tmp"), (name) => /^upload-.*\.tar\.gz$/.test(name))),
    ...(await entries(join(dataDir, "workspaces"), (name) => /^\..+\.(new|old)-/.test(name))),
  ];
  for (const path of candidates) {
    const stat = await lstat(path).catch(() => null);
    if (stat && stat.mtimeMs < olderThan) await rm(path, { recursive: true, force: true });
  }
}

async function entries(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter(keep).map((name) => join(dir, name));
}
