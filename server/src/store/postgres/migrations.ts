/**
 * The PostgreSQL schema: every versioned migration, in one place, applied in order at start under an
 * advisory lock, so that replicas starting together migrate once (the others wait, then find it done).
 * Never edit a released migration: add a new one at the end. Columns mirror the SQLite schema (JSON as
 * text, flags as 0/1, times as epoch ms), so both SQL stores share their row mapping (`store/sql/`).
 */
import type pg from "pg";

export interface PostgresMigration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly PostgresMigration[] = [
  {
    version: 1,
    name: "keys, rate limits, usage, idempotency, workspaces, jobs, webhooks, sandboxes",
    sql: `
      CREATE TABLE keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('live', 'test')),
        prefix TEXT NOT NULL,
        workspace_id TEXT,
        permissions TEXT NOT NULL,
        rate_limit INTEGER NOT NULL CHECK (rate_limit > 0),
        created_at BIGINT NOT NULL,
        last_used BIGINT,
        revoked_at BIGINT,
        expires_at BIGINT
      );
      CREATE INDEX keys_workspace ON keys(workspace_id, id);
      CREATE TABLE key_secrets (
        secret_hash TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
        created_at BIGINT NOT NULL,
        expires_at BIGINT
      );
      CREATE INDEX key_secrets_key ON key_secrets(key_id);
      CREATE TABLE rate_limits (key_id TEXT PRIMARY KEY, tat DOUBLE PRECISION NOT NULL);
      CREATE TABLE usage_daily (
        key_id TEXT NOT NULL,
        day TEXT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (key_id, day)
      );
      CREATE TABLE idempotency (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status INTEGER,
        body TEXT,
        content_type TEXT,
        expires_at BIGINT NOT NULL,
        owner TEXT,
        lease_until BIGINT,
        PRIMARY KEY (scope, key)
      );
      CREATE INDEX idempotency_expiry ON idempotency(expires_at);
      CREATE INDEX idempotency_owner ON idempotency(owner) WHERE status IS NULL;

      CREATE TABLE workspaces (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        name_scope TEXT NOT NULL DEFAULT '',
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        file_count BIGINT NOT NULL CHECK (file_count >= 0),
        size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0)
      );
      CREATE UNIQUE INDEX workspaces_scoped_name ON workspaces(name_scope, name);
      CREATE INDEX workspaces_newest ON workspaces(created_at DESC, id DESC);

      -- last_seq: the job's event counter; bumping it locks the row, so appends stay gapless across replicas.
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        workspace_id TEXT,
        spec TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        started_at BIGINT,
        completed_at BIGINT,
        sandbox_id TEXT,
        session_id TEXT,
        turns INTEGER NOT NULL,
        cleaned_up_at BIGINT,
        error TEXT,
        error_code TEXT,
        result TEXT,
        usage TEXT,
        runner TEXT NOT NULL,
        test_mode INTEGER NOT NULL,
        queued_at BIGINT NOT NULL,
        claimed_by TEXT,
        lease_until BIGINT,
        sandbox_bytes BIGINT NOT NULL DEFAULT 0,
        last_seq INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX jobs_workspace ON jobs(workspace_id, id);
      CREATE INDEX jobs_status ON jobs(status, id);
      CREATE INDEX jobs_workspace_status ON jobs(workspace_id, status, id);
      CREATE INDEX jobs_queue ON jobs(runner, queued_at, id) WHERE status = 'pending' AND claimed_by IS NULL;
      CREATE INDEX jobs_claims ON jobs(claimed_by) WHERE claimed_by IS NOT NULL;
      CREATE INDEX jobs_session ON jobs(session_id) WHERE session_id IS NOT NULL;
      CREATE INDEX jobs_sandbox_bytes ON jobs(workspace_id) WHERE cleaned_up_at IS NULL AND sandbox_bytes > 0;
      CREATE INDEX jobs_idle ON jobs(completed_at) WHERE cleaned_up_at IS NULL AND status IN ('completed', 'failed');
      CREATE TABLE job_events (
        job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (job_id, seq)
      );

      CREATE TABLE webhook_endpoints (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        url TEXT NOT NULL,
        event_types TEXT NOT NULL,
        description TEXT,
        secret_sealed TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        disabled_reason TEXT,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints(workspace_id, id);
      CREATE TABLE webhook_events (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        type TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY,
        endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        event_id TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempt_count INTEGER NOT NULL,
        round_attempts INTEGER NOT NULL,
        next_attempt_at BIGINT,
        claimed_until BIGINT,
        claim_token TEXT,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
      CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);
      CREATE INDEX webhook_deliveries_endpoint_due ON webhook_deliveries(endpoint_id, next_attempt_at, id)
        WHERE status = 'pending';
      CREATE INDEX webhook_deliveries_leased ON webhook_deliveries(claimed_until, endpoint_id)
        WHERE claimed_until IS NOT NULL;
      CREATE TABLE webhook_attempts (
        id BIGSERIAL PRIMARY KEY,
        delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
        at BIGINT NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration_ms BIGINT NOT NULL
      );
      CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);
    `,
  },
  {
    // The start-up orphan sweep's lookup of live sandboxes by id, 10k names a query (issue 11, item 4).
    version: 2,
    name: "live sandboxes by id",
    sql: "CREATE INDEX jobs_live_sandbox ON jobs(sandbox_id) WHERE cleaned_up_at IS NULL;",
  },
];

// Any fixed number, the same in every replica: the session-level lock that serialises migrations.
const MIGRATION_LOCK = 7_140_318_200_001;

/** The newest migration version this build knows. */
export const LATEST_VERSION = Math.max(...migrations.map((m) => m.version));

/**
 * Applies every migration newer than the database's version, each in its own transaction, while holding
 * an advisory lock: a second replica starting at the same time waits for the first, then finds nothing to do.
 */
export async function applyMigrations(client: pg.ClientBase, list: readonly PostgresMigration[] = migrations) {
  await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
  try {
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    );
    const applied = new Set(
      (await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version),
    );
    for (const migration of [...list].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      await client.query("BEGIN");
      try {
        await client.query(migration.sql);
        await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
          migration.version,
          migration.name,
        ]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
  }
}

/** The highest applied migration version, or 0 before any (for readiness checks). */
export async function appliedVersion(db: pg.Pool | pg.ClientBase): Promise<number> {
  const table = await db.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (!table.rows[0]?.t) return 0;
  const result = await db.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations");
  return result.rows[0]?.v ?? 0;
}
