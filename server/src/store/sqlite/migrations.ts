/**
 * The SQLite schema: every versioned migration, in one place, applied in order at start (each in its own
 * transaction, see `applyMigrations`). Never edit a released migration: add a new one at the end.
 */
import type { Migration } from "./database.js";

const keysMigration: Migration = {
  version: 1,
  name: "keys, rate limits, usage, idempotency",
  sql: `
    CREATE TABLE keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      type TEXT NOT NULL CHECK (type IN ('live', 'test')),
      prefix TEXT NOT NULL,
      workspace_id TEXT,
      permissions TEXT NOT NULL,
      rate_limit INTEGER NOT NULL CHECK (rate_limit > 0),
      created_at INTEGER NOT NULL,
      last_used INTEGER,
      revoked_at INTEGER,
      expires_at INTEGER
    );
    CREATE TABLE key_secrets (
      secret_hash TEXT PRIMARY KEY,
      key_id TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
      created_at INTEGER NOT NULL,
      expires_at INTEGER
    );
    CREATE INDEX key_secrets_key ON key_secrets(key_id);
    CREATE TABLE rate_limits (
      key_id TEXT PRIMARY KEY,
      tat REAL NOT NULL
    );
    CREATE TABLE usage_daily (
      key_id TEXT NOT NULL,
      day TEXT NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (key_id, day)
    ) WITHOUT ROWID;
    CREATE TABLE idempotency (
      scope TEXT NOT NULL,
      key TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      status INTEGER,
      body TEXT,
      content_type TEXT,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (scope, key)
    ) WITHOUT ROWID;
    CREATE INDEX idempotency_expiry ON idempotency(expires_at);
  `,
};

const workspacesMigration: Migration = {
  version: 2,
  name: "workspaces",
  sql: `
    CREATE TABLE workspaces (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      file_count INTEGER NOT NULL CHECK (file_count >= 0),
      size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0)
    );
    CREATE INDEX workspaces_newest ON workspaces(created_at DESC, id DESC);
  `,
};

/**
 * Jobs and their event logs. The queue is the partial index `jobs_queue` (pending, unclaimed turns by
 * `queued_at`), so claiming costs the same whatever the number of finished jobs. Every list has an index
 * that matches its filter and order: (workspace_id, id), (status, id) and (workspace_id, status, id).
 */
const jobsMigration: Migration = {
  version: 3,
  name: "jobs",
  sql: `
    CREATE TABLE jobs (
      id TEXT PRIMARY KEY,
      workspace_id TEXT,
      spec TEXT NOT NULL,
      status TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      started_at INTEGER,
      completed_at INTEGER,
      sandbox_id TEXT,
      session_id TEXT,
      turns INTEGER NOT NULL,
      cleaned_up_at INTEGER,
      error TEXT,
      runner TEXT NOT NULL,
      test_mode INTEGER NOT NULL,
      queued_at INTEGER NOT NULL,
      claimed_by TEXT,
      lease_until INTEGER
    );
    CREATE INDEX jobs_workspace ON jobs(workspace_id, id);
    CREATE INDEX jobs_status ON jobs(status, id);
    CREATE INDEX jobs_workspace_status ON jobs(workspace_id, status, id);
    CREATE INDEX jobs_queue ON jobs(runner, queued_at, id) WHERE status = 'pending' AND claimed_by IS NULL;
    CREATE INDEX jobs_claims ON jobs(claimed_by) WHERE claimed_by IS NOT NULL;
    CREATE TABLE job_events (
      job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      type TEXT NOT NULL,
      data TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (job_id, seq)
    ) WITHOUT ROWID;
  `,
};

const webhooksMigration: Migration = {
  version: 4,
  name: "webhooks",
  sql: `
    CREATE TABLE webhook_endpoints (
      id TEXT PRIMARY KEY,
      workspace_id TEXT NOT NULL,
      url TEXT NOT NULL,
      event_types TEXT NOT NULL,
      description TEXT,
      secret_sealed TEXT NOT NULL,
      enabled INTEGER NOT NULL DEFAULT 1,
      disabled_reason TEXT,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints(workspace_id, id);
    CREATE TABLE webhook_events (
      id TEXT PRIMARY KEY,
      workspace_id TEXT NOT NULL,
      type TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      body TEXT NOT NULL
    );
    CREATE TABLE webhook_deliveries (
      id TEXT PRIMARY KEY,
      endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
      event_id TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
      status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
      attempt_count INTEGER NOT NULL,
      round_attempts INTEGER NOT NULL,
      next_attempt_at INTEGER,
      claimed_until INTEGER,
      claim_token TEXT,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
    CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
    CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);
    CREATE TABLE webhook_attempts (
      id INTEGER PRIMARY KEY,
      delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
      at INTEGER NOT NULL,
      status_code INTEGER,
      error TEXT,
      duration_ms INTEGER NOT NULL
    );
    CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);
  `,
};

/**
 * Claims carry their owner (the replica id) and a lease, so that a claim cut short by a crash does not
 * block its key for 24 h (issue 15, item 5). Claims left by the previous version's processes are dead.
 */
const idempotencyLeaseMigration: Migration = {
  version: 5,
  name: "idempotency claim leases; jobs by agent session",
  sql: `
    DELETE FROM idempotency WHERE status IS NULL;
    ALTER TABLE idempotency ADD COLUMN owner TEXT;
    ALTER TABLE idempotency ADD COLUMN lease_until INTEGER;
    CREATE INDEX jobs_session ON jobs(session_id) WHERE session_id IS NOT NULL;
  `,
};

/**
 * Workspace names are unique per namespace, not globally, so that one tenant can neither learn another's
 * names (from a 409) nor squat them (issue 15, item 11). A workspace made by a workspace-scoped key has its
 * own namespace (its id); those made by keys without a workspace share the namespace ''. Dropping the
 * column's UNIQUE needs a table rebuild (SQLite's documented 12-step procedure), done here from the live
 * schema so that columns other migrations added survive it.
 */
const workspaceNameScopeMigration: Migration = {
  version: 6,
  name: "workspace names unique per namespace",
  sql: "",
  run(db) {
    const table = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'workspaces'").get() as {
      sql: string;
    };
    const rebuilt = table.sql
      .replace(/\bname TEXT NOT NULL UNIQUE\b/, "name TEXT NOT NULL")
      .replace(/^CREATE TABLE "?workspaces"?/, "CREATE TABLE workspaces_rebuilt");
    if (!rebuilt.startsWith("CREATE TABLE workspaces_rebuilt") || /\bUNIQUE\b/.test(rebuilt)) {
      throw new Error("the workspaces table is not declared as this migration expects");
    }
    const indexes = db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'workspaces' AND sql IS NOT NULL")
      .all() as { sql: string }[];
    const columns = (db.pragma("table_info(workspaces)") as { name: string }[]).map((c) => `"${c.name}"`).join(", ");
    db.exec(rebuilt);
    db.exec(`INSERT INTO workspaces_rebuilt (${columns}) SELECT ${columns} FROM workspaces`);
    db.exec("DROP TABLE workspaces");
    db.exec("ALTER TABLE workspaces_rebuilt RENAME TO workspaces");
    for (const index of indexes) db.exec(index.sql);
    db.exec("ALTER TABLE workspaces ADD COLUMN name_scope TEXT NOT NULL DEFAULT ''");
    db.exec("CREATE UNIQUE INDEX workspaces_scoped_name ON workspaces(name_scope, name)");
  },
};

/**
 * The indexes the fair claim walks (#15 item 6): each endpoint's pending deliveries, oldest due first, and
 * the leases held now (a lease is cleared when its attempt is recorded, so that index stays small).
 */
const webhookFairnessMigration: Migration = {
  version: 7,
  name: "webhook delivery fairness",
  sql: `
    CREATE INDEX webhook_deliveries_endpoint_due ON webhook_deliveries(endpoint_id, next_attempt_at, id)
      WHERE status = 'pending';
    CREATE INDEX webhook_deliveries_leased ON webhook_deliveries(claimed_until, endpoint_id)
      WHERE claimed_until IS NOT NULL;
  `,
};

/**
 * `jobs.error_code`: the machine half of a failed turn's `error` (`JobError.code` in the spec). Rows failed
 * before it existed keep a null code and read as `agent_failed`.
 */
const jobErrorCodeMigration: Migration = {
  version: 8,
  name: "job error codes",
  sql: "ALTER TABLE jobs ADD COLUMN error_code TEXT;",
};

/**
 * Sandbox disk accounting (issue 15, item 7): `jobs.sandbox_bytes` holds a job's reservation, then the measured
 * size of its sandbox. The partial indexes serve the per-workspace sum (only sandboxes that hold bytes) and the
 * idle sweep (finished, not cleaned-up jobs by the end of their last turn).
 */
const sandboxesMigration: Migration = {
  version: 9,
  name: "sandbox disk accounting",
  sql: `
    ALTER TABLE jobs ADD COLUMN sandbox_bytes INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX jobs_sandbox_bytes ON jobs(workspace_id) WHERE cleaned_up_at IS NULL AND sandbox_bytes > 0;
    CREATE INDEX jobs_idle ON jobs(completed_at) WHERE cleaned_up_at IS NULL AND status IN ('completed', 'failed');
  `,
};

/** Issue 13: the agent's final text and usage (JSON) of the latest turn, when its CLI reported them. */
const jobAgentResultsMigration: Migration = {
  version: 10,
  name: "job agent results and usage",
  sql: `
    ALTER TABLE jobs ADD COLUMN result TEXT;
    ALTER TABLE jobs ADD COLUMN usage TEXT;
  `,
};

/**
 * The start-up orphan sweep asks which of the `sbx_…` folders it found belong to a job not cleaned up, 10k
 * names a query (issue 11, item 4): without an index on `sandbox_id` each query scanned the whole jobs table
 * (~0.7 s at 1M jobs).
 */
const liveSandboxIndexMigration: Migration = {
  version: 11,
  name: "live sandboxes by id",
  sql: "CREATE INDEX jobs_live_sandbox ON jobs(sandbox_id) WHERE cleaned_up_at IS NULL;",
};

/** Every migration, oldest first. */
export const migrations: readonly Migration[] = [
  keysMigration,
  workspacesMigration,
  jobsMigration,
  webhooksMigration,
  idempotencyLeaseMigration,
  workspaceNameScopeMigration,
  webhookFairnessMigration,
  jobErrorCodeMigration,
  sandboxesMigration,
  jobAgentResultsMigration,
  liveSandboxIndexMigration,
];
