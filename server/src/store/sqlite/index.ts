import type Database from "better-sqlite3";
import type { Store } from "../store.js";
import { applyMigrations, openDatabase } from "./database.js";
import { SqliteIdempotencyRepo } from "./idempotency.js";
import { SqliteJobRepo } from "./jobs.js";
import { SqliteKeyRepo } from "./keys.js";
import { migrations } from "./migrations.js";
import { SqliteRequestRepo } from "./requests.js";
import { SqliteSandboxRepo } from "./sandboxes.js";
import { UsageLedger } from "./usage-ledger.js";
import { SqliteWebhookRepo } from "./webhooks.js";
import { SqliteWorkspaceRepo } from "./workspaces.js";

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  /** How often counted usage is written (ms; 0: only before reads and on close). Default 1000. */
  usageFlushMs?: number;
}

/**
 * The embedded default store: one SQLite file (or `:memory:` in tests).
 * @example const store = await openSqliteStore("./data/knify.db");
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<Store> {
  const db = openDatabase(path);
  applyMigrations(db, migrations);
  return new SqliteStore(db, options.usageFlushMs ?? 1000);
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
  ) {
    // A flush writes `last_used`, which the key cache's records hold: they are read again after it.
    this.ledger = new UsageLedger(db, usageFlushMs, () => this.keys.cache.clear());
    this.keys = new SqliteKeyRepo(db, this.ledger);
    this.requests = new SqliteRequestRepo(db, this.ledger);
    this.idempotency = new SqliteIdempotencyRepo(db);
    this.workspaces = new SqliteWorkspaceRepo(db);
    this.jobs = new SqliteJobRepo(db);
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
  }
}
