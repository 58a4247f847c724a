import type { WorkspaceRecord } from "../store/workspaces-repo.js";

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
