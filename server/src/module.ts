import type { Clock } from "./clock.js";
import type { ServerConfig } from "./config.js";
import type { Handlers } from "./http/operation.js";
import type { Logger } from "./logger.js";
import type { Store } from "./store/store.js";
import type { PresetCatalog } from "./workspaces/presets.js";

/** What every feature module gets. `env` carries the module's own KNIFY_* settings (tests pass their own). */
export interface ModuleDeps {
  store: Store;
  config: ServerConfig;
  clock: Clock;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** The pre-configured workspaces (`KNIFY_PRESET_WORKSPACES_DIR`), read once at start. */
  presets: PresetCatalog;
}

/**
 * A feature (jobs, workspaces, webhooks): its operation handlers and, if it has background work
 * (a job runner, a delivery worker), how to start and stop it.
 */
export interface FeatureModule {
  handlers: Handlers;
  start?(): Promise<void>;
  /**
   * Ends long-lived responses (event streams) cleanly: called first thing in a graceful shutdown, so that
   * they do not hold the server open until its grace period ends and clients resume on another replica.
   */
  drain?(): void;
  /** Stops background work; called on graceful shutdown before the store closes. */
  stop?(): Promise<void>;
}
