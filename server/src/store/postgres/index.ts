import type pg from "pg";
import type { Store } from "../store.js";
import { createPool } from "./database.js";
import { PostgresIdempotencyRepo } from "./idempotency.js";
import { PostgresJobRepo } from "./jobs.js";
import { PostgresKeyRepo } from "./keys.js";
import { appliedVersion, applyMigrations, LATEST_VERSION } from "./migrations.js";
import { CHANNELS, Notifications } from "./notifications.js";
import { PostgresRequestRepo } from "./requests.js";
import { PostgresSandboxRepo } from "./sandboxes.js";
import { PostgresWebhookRepo } from "./webhooks.js";
import { PostgresWorkspaceRepo } from "./workspaces.js";

export interface PostgresStoreOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /**
   * Whose clock rate limits run on: `database` (the default: one timeline for every replica) or `caller`
   * (the `now` passed to `admit`, so tests can move time).
   */
  rateLimitClock?: "database" | "caller";
}

/**
 * The store for several replicas on one PostgreSQL database (`KNIFY_DATABASE_URL=postgres://…`): applies
 * the migrations at start under an advisory lock, and LISTENs on one dedicated connection so that each
 * replica hears at once what another committed (see {@link Store.feed}).
 * @example const store = await openPostgresStore("postgres://knify@db.internal/knify");
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const pool = createPool(url, options.poolSize);
  const notifications = new Notifications(url);
  try {
    const client = await pool.connect();
    try {
      await applyMigrations(client);
    } finally {
      client.release();
    }
    await notifications.start();
  } catch (error) {
    await notifications.close();
    await pool.end();
    throw error;
  }
  return new PostgresStore(pool, notifications, options.rateLimitClock ?? "database");
}

class PostgresStore implements Store {
  readonly keys;
  readonly requests;
  readonly idempotency;
  readonly workspaces;
  readonly jobs;
  readonly webhooks;
  readonly sandboxes;
  readonly feed;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly notifications: Notifications,
    clock: "database" | "caller",
  ) {
    this.keys = new PostgresKeyRepo(pool);
    this.requests = new PostgresRequestRepo(pool, clock);
    this.idempotency = new PostgresIdempotencyRepo(pool);
    this.workspaces = new PostgresWorkspaceRepo(pool);
    this.jobs = new PostgresJobRepo(pool);
    this.webhooks = new PostgresWebhookRepo(pool, notifications);
    this.sandboxes = new PostgresSandboxRepo(pool);
    this.feed = {
      onJob: (listener: (jobId: string, queued: boolean) => void) =>
        notifications.subscribe(CHANNELS.jobs, (payload) => {
          const [jobId, queued] = payload.split(" ");
          if (jobId) listener(jobId, queued === "queued");
        }),
    };
  }

  async ready(): Promise<void> {
    const version = await appliedVersion(this.pool);
    if (version < LATEST_VERSION) {
      throw new Error(`the database schema is at version ${version}; this server needs ${LATEST_VERSION}`);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.notifications.close();
      await this.pool.end();
    })();
    return this.closing;
  }
}
