import { BubblewrapIsolation } from "./bubblewrap.js";
import type { SandboxConfig } from "./config.js";
import type { Isolation } from "./isolation.js";
import { NoIsolation } from "./none.js";

/**
 * The isolation backend `KNIFY_SANDBOX_ISOLATION` names. A container backend would be one more case here.
 * @example const isolation = createIsolation(loadSandboxConfig(env, options), env); await isolation.probe();
 */
export function createIsolation(config: SandboxConfig, serverEnv: NodeJS.ProcessEnv): Isolation {
  return config.isolation === "none" ? new NoIsolation(config, serverEnv) : new BubblewrapIsolation(config, serverEnv);
}
