import type { ServerConfig } from "../config.js";
import { openPostgresStore } from "./postgres/index.js";
import { openSqliteStore } from "./sqlite/index.js";
import type { Store } from "./store.js";

/**
 * The store the configuration names: PostgreSQL when `KNIFY_DATABASE_URL` is set (several replicas share
 * it; no SQLite file is created), else the embedded SQLite file.
 * @example const store = await openStore(loadConfig());
 */
export async function openStore(config: Pick<ServerConfig, "databasePath" | "databaseUrl">): Promise<Store> {
  return config.databaseUrl === null ? openSqliteStore(config.databasePath) : openPostgresStore(config.databaseUrl);
}
