import { hostname } from "node:os";
import { resolve } from "node:path";
import { type ConfigHost, readConfig, type ServerConfig } from "./settings.js";

export { ConfigError, envInteger, type ServerConfig } from "./settings.js";

/** Node's host: the machine's name, paths resolved against the working directory. */
export const nodeHost: ConfigHost = { hostname, resolvePath: (...segments) => resolve(...segments) };

/**
 * Reads KNIFY_* variables. See the README's configuration table.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return readConfig(env, nodeHost);
}
