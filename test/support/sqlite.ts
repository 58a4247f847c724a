import Database from "better-sqlite3";

/**
 * One value read from a SQLite file by a connection of its own, opened read-only and closed again: what the
 * CLI or an operator in another process would see, not what the store's own connection holds in memory.
 * @example const tat = readFromFile(file, "SELECT tat FROM rate_limits WHERE key_id = ?", keyId);
 */
export function readFromFile(file: string, sql: string, ...params: unknown[]): unknown {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(sql)
      .pluck()
      .get(...params);
  } finally {
    db.close();
  }
}
