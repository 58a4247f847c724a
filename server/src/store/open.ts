import type { ServerConfig } from "../config.js";
import { openSqliteStore } from "./sqlite/index.js";
import type { Store } from "./store.js";

/**
 * The store the configuration names: PostgreSQL when `KNIFY_DATABASE_URL` is set (several replicas share
 * it; no SQLite file is created), else the embedded SQLite file.
 * @example const store = await openStore(loadConfig());
 */
export async function openStore(
  config: Pick<ServerConfig, "databasePath" | "databaseUrl" | "usageFlushMs">,
  /** The server: this process serves requests from the store (SQLite: takes its serve lock, see `serve`). */
  { serve = false }: { serve?: boolean } = {},
): Promise<Store> {
  if (config.databaseUrl === null)
    return openSqliteStore(config.databasePath, { usageFlushMs: config.usageFlushMs, serve });
  // Loaded only when named, so the embedded default never loads the pg driver.
  const { openPostgresStore } = await import("./postgres/index.js");
  return openPostgresStore(config.databaseUrl);
}
