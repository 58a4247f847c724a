import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/**
 * Holds `<database>.serve-lock` for as long as this process serves from the database: an exclusive SQLite
 * lock on a file of its own, which the operating system drops when the process ends, however it ends. A
 * server keeps its rate limits in memory (issue 11), which is exact only while no other server admits
 * requests from the same file, so a second `knify-server start` on one data directory is refused here with a
 * message that says what to do. The CLI (`keys create`, `keys revoke` …) never takes it: it admits nothing.
 * @example const lock = holdServeLock("./data/knify.db"); … lock.close();
 */
export function holdServeLock(databasePath: string): Database.Database {
  const path = `${databasePath}.serve-lock`;
  // Taken before the database is opened, which would create the directory: a first start has none yet.
  mkdirSync(dirname(path), { recursive: true });
  const lock = new Database(path, { timeout: 0 });
  try {
    lock.pragma("locking_mode = EXCLUSIVE");
    // The file holds nothing worth a journal: no -journal file beside it.
    lock.pragma("journal_mode = OFF");
    // The first write takes the exclusive lock; in EXCLUSIVE locking mode SQLite keeps it after the commit.
    lock.exec("CREATE TABLE IF NOT EXISTS serve_lock (pid INTEGER)");
    lock.exec("BEGIN EXCLUSIVE");
    lock.exec("COMMIT");
    return lock;
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
    throw new Error(
      `another knify server is serving ${databasePath} (it holds ${path}). Stop it first, give this one its own KNIFY_DATA_DIR, or run several replicas on PostgreSQL (KNIFY_DATABASE_URL).`,
    );
  }
}
