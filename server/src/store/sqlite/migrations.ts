/**
 * Versioned schema migrations, applied in order at start (each in its own transaction).
 * Never edit a released migration: add a new one.
 */
import type Database from "better-sqlite3";
import { idempotencyLeaseMigration } from "./idempotency.js";
import { jobErrorCodeMigration, jobsMigration } from "./jobs.js";
import { sandboxesMigration } from "./sandboxes.js";
import { webhookFairnessMigration, webhooksMigration } from "./webhooks.js";
import { workspaceNameScopeMigration, workspacesMigration } from "./workspaces.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Steps SQL text cannot express (e.g. a rebuild that keeps whatever columns the table has); run after `sql`. */
  run?(db: Database.Database): void;
}

export const migrations: Migration[] = [
  {
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
  },
  workspacesMigration,
  jobsMigration,
  webhooksMigration,
  idempotencyLeaseMigration,
  workspaceNameScopeMigration,
  webhookFairnessMigration,
  jobErrorCodeMigration,
  sandboxesMigration,
];
