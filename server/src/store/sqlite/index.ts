import type Database from "better-sqlite3";
import type { Store } from "../store.js";
import { applyMigrations, openDatabase } from "./database.js";
import { SqliteIdempotencyRepo } from "./idempotency.js";
import { SqliteJobRepo } from "./jobs.js";
import { SqliteKeyRepo } from "./keys.js";
import { migrations } from "./migrations.js";
import { SqliteRequestRepo } from "./requests.js";
import { SqliteSandboxRepo } from "./sandboxes.js";
import { holdServeLock } from "./serve-lock.js";
import { UsageLedger } from "./usage-ledger.js";
import { SqliteWebhookRepo } from "./webhooks.js";
import { SqliteWorkspaceRepo } from "./workspaces.js";

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** How often counted usage is written (ms; 0: only before reads and on close). Default 1000. */
  usageFlushMs?: number;
  /**
   * This process serves requests from the file and no other may (the server): it takes the file's serve
   * lock (a second server is refused) and keeps rate limits in memory, written with the usage flush.
   * Default false (the CLI, tests of several connections): every admission writes to the file.
   */
  serve?: boolean;
}

/**
 * The embedded default store: one SQLite file (or `:memory:` in tests).
 * @example const store = await openSqliteStore("./data/knify.db");
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<Store> {
  // Taken before the database is touched: a refused second server changes nothing (not even a migration).
  const lock = options.serve && path !== ":memory:" ? holdServeLock(path) : null;
  try {
    const db = openDatabase(path);
    applyMigrations(db, migrations);
    return new SqliteStore(db, options.usageFlushMs ?? 1000, options.serve ?? false, lock);
  } catch (error) {
    lock?.close();
    throw error;
  }
}

class SqliteStore implements Store {
  readonly keys;
  readonly requests;
  readonly idempotency;
  readonly workspaces;
  readonly jobs;
  readonly webhooks;
  readonly sandboxes;
  private readonly ledger;

  constructor(
    private readonly db: Database.Database,
    usageFlushMs: number,
    serve: boolean,
    private readonly lock: Database.Database | null,
  ) {
    // A flush writes `last_used`, which the key cache's records hold: they are read again after it.
    this.ledger = new UsageLedger(db, usageFlushMs, () => this.keys.cache.clear());
    this.keys = new SqliteKeyRepo(db, this.ledger);
    this.requests = new SqliteRequestRepo(db, this.ledger, serve);
    this.idempotency = new SqliteIdempotencyRepo(db);
    this.workspaces = new SqliteWorkspaceRepo(db);
    this.jobs = new SqliteJobRepo(db, serve);
    this.webhooks = new SqliteWebhookRepo(db);
    this.sandboxes = new SqliteSandboxRepo(db);
  }

  async ready(): Promise<void> {
    const latest = Math.max(...migrations.map((m) => m.version));
    const version = (this.db.prepare("SELECT max(version) AS v FROM schema_migrations").get() as { v: number | null })
      .v;
    if ((version ?? 0) < latest)
      throw new Error(`the database schema is at version ${version}; this server needs ${latest}`);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    // Nothing counted is lost on a clean stop (SIGTERM closes the server, then the store).
    this.ledger.close();
    this.db.close();
    // Released only once everything this process kept in memory is in the file.
    this.lock?.close();
  }
}
