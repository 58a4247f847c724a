import { type Dirent, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../config.js";
import { PATTERNS } from "../generated/constants.js";
import type { Logger } from "../logger.js";
import { PresetCatalog, type PresetWorkspace } from "./preset-catalog.js";
import { PRESET_ID_PREFIX } from "./preset-id.js";

export { PresetCatalog, type PresetWorkspace } from "./preset-catalog.js";

/** The sub-directory names that may be presets: the spec's `WorkspaceName` pattern. */
const NAME = new RegExp(PATTERNS.WorkspaceName, "u");
/** `ws_preset_` + the name with `.`/`-` as `_` must fit the spec's `WorkspaceIdValue` (64 characters after `ws_`). */
const MAX_ID_NAME = 64 - (PRESET_ID_PREFIX.length - "ws_".length);

/**
 * Reads `KNIFY_PRESET_WORKSPACES_DIR` (unset: no presets). A setting that is not a readable directory stops
 * the start with a `ConfigError`; a sub-directory whose name is not a valid workspace name is skipped with a
 * warning, so one odd folder does not take the server down.
 * @example const presets = loadPresetWorkspaces({ KNIFY_PRESET_WORKSPACES_DIR: "examples/presets" }, logger);
 */
export function loadPresetWorkspaces(env: NodeJS.ProcessEnv, logger: Logger): PresetCatalog {
  const root = env.KNIFY_PRESET_WORKSPACES_DIR?.trim();
  if (!root) return new PresetCatalog();
  let entries: Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch (error) {
    throw new ConfigError(
      `KNIFY_PRESET_WORKSPACES_DIR must be a readable directory whose sub-directories are the presets; ${root}: ${(error as Error).message}.`,
    );
  }
  const presets: PresetWorkspace[] = [];
  const ids = new Set<string>();
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const id = `${PRESET_ID_PREFIX}${entry.name.replace(/[.-]/g, "_")}`;
    if (!NAME.test(entry.name) || entry.name.length > MAX_ID_NAME || ids.has(id)) {
      logger.warn(
        { dir: join(root, entry.name) },
        `skipping preset workspace ${JSON.stringify(entry.name)}: use 1–${MAX_ID_NAME} letters, digits, ".", "_" or "-", starting with a letter or digit, unique once "." and "-" read as "_"`,
      );
      continue;
    }
    ids.add(id);
    const dir = resolve(root, entry.name);
    const stat = statSync(dir);
    presets.push({
      id,
      name: entry.name,
      dir,
      createdAt: Math.floor(stat.mtimeMs),
      updatedAt: Math.floor(stat.mtimeMs),
      ...countFiles(dir),
    });
  }
  return new PresetCatalog(presets);
}

/** Regular files and their bytes under `dir`; links are not followed (a sandbox copies them as links). */
function countFiles(dir: string): { fileCount: number; sizeBytes: number } {
  let fileCount = 0;
  let sizeBytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    fileCount += 1;
    sizeBytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { fileCount, sizeBytes };
}
