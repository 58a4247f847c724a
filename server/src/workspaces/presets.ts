import { type Dirent, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../config.js";
import { PATTERNS } from "../generated/constants.js";
import type { Logger } from "../logger.js";
import type { WorkspaceRecord } from "../store/workspaces-repo.js";
import { PRESET_ID_PREFIX } from "./preset-id.js";

/** The sub-directory names that may be presets: the spec's `WorkspaceName` pattern. */
const NAME = new RegExp(PATTERNS.WorkspaceName, "u");
/** `ws_preset_` + the name with `.`/`-` as `_` must fit the spec's `WorkspaceIdValue` (64 characters after `ws_`). */
const MAX_ID_NAME = 64 - (PRESET_ID_PREFIX.length - "ws_".length);

/** A pre-configured workspace: a sub-directory of `KNIFY_PRESET_WORKSPACES_DIR`, read-only through the API. */
export interface PresetWorkspace extends WorkspaceRecord {
  /** The directory whose files a job's sandbox is copied from. */
  dir: string;
}

/**
 * The server's pre-configured workspaces (Knify's docs name one: `/workspaces/e2e-tests`). Each sub-directory
 * of `KNIFY_PRESET_WORKSPACES_DIR` is one, at `/workspaces/<dir name>`, with the id `ws_preset_<name>`
 * (`.` and `-` written `_`). They are read once, at start: presets are the operator's, not the API's.
 */
export class PresetCatalog {
  readonly #byName = new Map<string, PresetWorkspace>();
  readonly #byId = new Map<string, PresetWorkspace>();

  constructor(presets: PresetWorkspace[] = []) {
    for (const preset of presets) {
      this.#byName.set(preset.name, preset);
      this.#byId.set(preset.id, preset);
    }
  }

  list(): PresetWorkspace[] {
    return [...this.#byId.values()];
  }

  byId(id: string): PresetWorkspace | undefined {
    return this.#byId.get(id);
  }

  byName(name: string): PresetWorkspace | undefined {
    return this.#byName.get(name);
  }
}

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
