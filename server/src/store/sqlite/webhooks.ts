import { randomUUID } from "node:crypto";
import type Database from "better-sqlite3";
import type { PageQuery } from "../store.js";
import type { WebhookEventInput, WebhookEventType } from "../webhook-event.js";
import type {
  AttemptOutcome,
  ClaimedDelivery,
  DeliveryFairness,
  EndpointRefusal,
  NewWebhookEndpoint,
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
  WebhookEndpointChanges,
  WebhookEndpointRecord,
  WebhookRepo,
} from "../webhooks-repo.js";
import type { Migration } from "./migrations.js";
import {
  enqueueToMatchingEndpoints,
  insertEventWithDeliveries,
  onWebhookEnqueued,
  wakeWebhookWorkers,
} from "./outbox.js";

export const webhooksMigration: Migration = {
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
 * The indexes the fair claim walks (#15 item 6): each endpoint's pending deliveries, oldest due first, and
 * the leases held now (a lease is cleared when its attempt is recorded, so that index stays small).
 */
export const webhookFairnessMigration: Migration = {
  version: 7,
  name: "webhook delivery fairness",
  sql: `
    CREATE INDEX webhook_deliveries_endpoint_due ON webhook_deliveries(endpoint_id, next_attempt_at, id)
      WHERE status = 'pending';
    CREATE INDEX webhook_deliveries_leased ON webhook_deliveries(claimed_until, endpoint_id)
      WHERE claimed_until IS NOT NULL;
  `,
};

interface EndpointRow {
  id: string;
  workspace_id: string;
  url: string;
  event_types: string;
  description: string | null;
  enabled: number;
  disabled_reason: string | null;
  created_at: number;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: WebhookEventType;
  status: WebhookDeliveryStatus;
  attempt_count: number;
  next_attempt_at: number | null;
  created_at: number;
}

interface AttemptRow {
  delivery_id: string;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

interface ClaimRow {
  id: string;
  claim_token: string;
  event_id: string;
  body: string;
  round_attempts: number;
  endpoint_id: string;
  url: string;
  secret_sealed: string;
}

const toEndpoint = (row: EndpointRow): WebhookEndpointRecord => ({
  id: row.id,
  workspaceId: row.workspace_id,
  url: row.url,
  eventTypes: JSON.parse(row.event_types) as WebhookEventType[],
  description: row.description,
  enabled: row.enabled === 1,
  disabledReason: row.disabled_reason,
  createdAt: row.created_at,
});

const toAttempt = (row: AttemptRow): WebhookAttemptRecord => ({
  at: row.at,
  statusCode: row.status_code,
  error: row.error,
  durationMs: row.duration_ms,
});

const DELIVERY_COLUMNS = `d.id, d.endpoint_id, d.event_id, e.type AS event_type, d.status, d.attempt_count,
  d.next_attempt_at, d.created_at`;

/** The id of the endpoint among `rows` with the same URL (compared as parsed, so case and default ports agree). */
function sameUrl(rows: { id: string; url: string }[], url: string): string | null {
  const target = new URL(url).href;
  return rows.find((row) => new URL(row.url).href === target)?.id ?? null;
}

/** Webhook endpoints, events, deliveries and attempts: the durable outbox. */
export class SqliteWebhookRepo implements WebhookRepo {
  private readonly insertEndpoint;
  private readonly endpointById;
  private readonly endpointPage;
  private readonly deleteEvents;
  private readonly deleteEndpointRow;
  private readonly deliveryById;
  private readonly deliveryPage;
  private readonly attemptsOf;
  private readonly requeue;
  private readonly fairDue;
  private readonly lease;
  private readonly endpointsOfWorkspace;
  private readonly leased;
  private readonly claimOf;
  private readonly insertAttempt;
  private readonly countAttempt;
  private readonly settle;
  private readonly disableEndpoint;
  private readonly failPending;
  private readonly unlease;
  private readonly patchEndpoint;

  constructor(private readonly db: Database.Database) {
    this.insertEndpoint = db.prepare(
      `INSERT INTO webhook_endpoints (id, workspace_id, url, event_types, description, secret_sealed, created_at)
       VALUES (@id, @workspace_id, @url, @event_types, @description, @secret_sealed, @created_at)`,
    );
    this.endpointById = db.prepare("SELECT * FROM webhook_endpoints WHERE id = ?");
    this.endpointPage = db.prepare(
      `SELECT * FROM webhook_endpoints WHERE id < @before AND (@workspace IS NULL OR workspace_id = @workspace)
       ORDER BY id DESC LIMIT @limit`,
    );
    // Events that only this endpoint was owed go with it; the delivery rows cascade from both deletes.
    this.deleteEvents = db.prepare(
      `DELETE FROM webhook_events WHERE id IN (SELECT event_id FROM webhook_deliveries WHERE endpoint_id = @id)
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.event_id = webhook_events.id AND o.endpoint_id <> @id)`,
    );
    this.deleteEndpointRow = db.prepare("DELETE FROM webhook_endpoints WHERE id = ?");
    this.deliveryById = db.prepare(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
       WHERE d.id = @id AND d.endpoint_id = @endpoint`,
    );
    this.deliveryPage = db.prepare(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
       WHERE d.endpoint_id = @endpoint AND d.id < @before ORDER BY d.id DESC LIMIT @limit`,
    );
    this.attemptsOf = db.prepare(
      `SELECT delivery_id, at, status_code, error, duration_ms FROM webhook_attempts
       WHERE delivery_id IN (SELECT value FROM json_each(?)) ORDER BY id`,
    );
    this.requeue = db.prepare(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = @now, round_attempts = 0,
         claimed_until = NULL, claim_token = NULL
       WHERE id = @id AND endpoint_id = @endpoint`,
    );
    // #15 item 6: one tenant's slow receivers must not hold every delivery slot. A live lease (claimed_until
    // in the future, any replica) counts as in flight. A due delivery is eligible while its endpoint, and then
    // its workspace, stays within its share once it is added; eligible ones are taken round-robin: every
    // workspace's oldest first, then every workspace's second oldest, and so on.
    this.fairDue = db.prepare(
      `WITH live_endpoint AS MATERIALIZED (
         -- Pinned to the small leases index: without statistics the planner would walk every delivery.
         SELECT endpoint_id, count(*) AS n FROM webhook_deliveries INDEXED BY webhook_deliveries_leased
         WHERE claimed_until > @now AND status = 'pending' GROUP BY endpoint_id
       ),
       live_workspace AS MATERIALIZED (
         SELECT w.workspace_id, sum(l.n) AS n FROM live_endpoint l JOIN webhook_endpoints w ON w.id = l.endpoint_id
         GROUP BY w.workspace_id
       ),
       open_endpoint AS (
         SELECT w.id, w.workspace_id, coalesce(l.n, 0) AS busy
         FROM webhook_endpoints w LEFT JOIN live_endpoint l ON l.endpoint_id = w.id
         WHERE coalesce(l.n, 0) < @per_endpoint
       ),
       -- Only each endpoint's oldest few due deliveries are candidates (an index walk each), so the work
       -- grows with the number of endpoints, not with the backlog.
       due AS (
         SELECT d.id, d.next_attempt_at, e.workspace_id,
           ROW_NUMBER() OVER (PARTITION BY e.id ORDER BY d.next_attempt_at, d.id) + e.busy AS endpoint_load
         FROM open_endpoint e JOIN webhook_deliveries d ON d.id IN (
           SELECT x.id FROM webhook_deliveries x
           WHERE x.endpoint_id = e.id AND x.status = 'pending' AND x.next_attempt_at <= @now
             AND (x.claimed_until IS NULL OR x.claimed_until <= @now)
           ORDER BY x.next_attempt_at, x.id LIMIT @per_endpoint
         )
       ),
       eligible AS (
         SELECT due.id, due.next_attempt_at, coalesce(lw.n, 0) AS workspace_busy,
           ROW_NUMBER() OVER (PARTITION BY due.workspace_id ORDER BY due.next_attempt_at, due.id) AS turn
         FROM due LEFT JOIN live_workspace lw ON lw.workspace_id = due.workspace_id
         WHERE due.endpoint_load <= @per_endpoint
       )
       SELECT id FROM eligible WHERE turn + workspace_busy <= @per_workspace
       ORDER BY turn, next_attempt_at, id LIMIT @limit`,
    );
    this.lease = db.prepare(
      `UPDATE webhook_deliveries SET claimed_until = @until, claim_token = @token
       WHERE id IN (SELECT value FROM json_each(@ids))`,
    );
    this.endpointsOfWorkspace = db.prepare("SELECT id, url FROM webhook_endpoints WHERE workspace_id = ?");
    this.leased = db.prepare(
      `SELECT d.id, d.claim_token, d.event_id, e.body, d.round_attempts, d.endpoint_id, w.url, w.secret_sealed
       FROM webhook_deliveries d
       JOIN webhook_events e ON e.id = d.event_id
       JOIN webhook_endpoints w ON w.id = d.endpoint_id
       WHERE d.id IN (SELECT value FROM json_each(@ids)) AND d.claim_token = @token`,
    );
    this.claimOf = db.prepare("SELECT claim_token, endpoint_id FROM webhook_deliveries WHERE id = ?");
    this.insertAttempt = db.prepare(
      `INSERT INTO webhook_attempts (delivery_id, at, status_code, error, duration_ms)
       VALUES (@delivery, @at, @status_code, @error, @duration_ms)`,
    );
    this.countAttempt = db.prepare("UPDATE webhook_deliveries SET attempt_count = attempt_count + 1 WHERE id = ?");
    this.settle = db.prepare(
      `UPDATE webhook_deliveries SET status = @status, next_attempt_at = @next, round_attempts = round_attempts + 1,
         claimed_until = NULL, claim_token = NULL
       WHERE id = @id`,
    );
    this.disableEndpoint = db.prepare("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ? WHERE id = ?");
    this.failPending = db.prepare(
      `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, claimed_until = NULL, claim_token = NULL
       WHERE endpoint_id = ? AND status = 'pending'`,
    );
    this.patchEndpoint = db.prepare(
      `UPDATE webhook_endpoints SET url = coalesce(@url, url), event_types = coalesce(@event_types, event_types),
         description = CASE WHEN @set_description THEN @description ELSE description END,
         enabled = coalesce(@enabled, enabled),
         disabled_reason = CASE WHEN @enabled IS NULL THEN disabled_reason ELSE @disabled_reason END
       WHERE id = @id`,
    );
    this.unlease = db.prepare(
      "UPDATE webhook_deliveries SET claimed_until = NULL, claim_token = NULL WHERE id = ? AND claim_token = ?",
    );
  }

  async createEndpoint(
    endpoint: NewWebhookEndpoint,
    maxPerWorkspace: number,
  ): Promise<WebhookEndpointRecord | EndpointRefusal> {
    const refusal = this.db
      .transaction((): EndpointRefusal | null => {
        const existing = this.endpointsOfWorkspace.all(endpoint.workspaceId) as { id: string; url: string }[];
        const same = sameUrl(existing, endpoint.url);
        if (same) return { refused: "duplicate", existingId: same };
        if (existing.length >= maxPerWorkspace) return { refused: "limit", count: existing.length };
        this.insertEndpointRow(endpoint);
        return null;
      })
      // IMMEDIATE: the count and the insert hold the write lock together, so replicas cannot both pass the cap.
      .immediate();
    if (refusal) return refusal;
    const created = await this.getEndpoint(endpoint.id);
    if (!created) throw new Error(`endpoint ${endpoint.id} vanished after insert`);
    return created;
  }

  private insertEndpointRow(endpoint: NewWebhookEndpoint): void {
    this.insertEndpoint.run({
      id: endpoint.id,
      workspace_id: endpoint.workspaceId,
      url: endpoint.url,
      event_types: JSON.stringify(endpoint.eventTypes),
      description: endpoint.description,
      secret_sealed: endpoint.sealedSecret,
      created_at: endpoint.createdAt,
    });
  }

  async getEndpoint(id: string): Promise<WebhookEndpointRecord | null> {
    const row = this.endpointById.get(id) as EndpointRow | undefined;
    return row ? toEndpoint(row) : null;
  }

  async listEndpoints({ limit, before, workspaceId }: PageQuery & { workspaceId?: string }) {
    // "~" sorts after every id, so it stands for "from the newest".
    const rows = this.endpointPage.all({
      before: before ?? "~",
      workspace: workspaceId ?? null,
      limit,
    }) as EndpointRow[];
    return rows.map(toEndpoint);
  }

  async updateEndpoint(
    id: string,
    changes: WebhookEndpointChanges,
  ): Promise<WebhookEndpointRecord | Extract<EndpointRefusal, { refused: "duplicate" }> | null> {
    const { enabled } = changes;
    const changed = this.db
      .transaction((): boolean | Extract<EndpointRefusal, { refused: "duplicate" }> => {
        const current = this.endpointById.get(id) as EndpointRow | undefined;
        if (!current) return false;
        if (changes.url !== undefined) {
          const others = (this.endpointsOfWorkspace.all(current.workspace_id) as { id: string; url: string }[]).filter(
            (row) => row.id !== id,
          );
          const same = sameUrl(others, changes.url);
          if (same) return { refused: "duplicate", existingId: same };
        }
        const updated = this.patchEndpoint.run({
          id,
          url: changes.url ?? null,
          event_types: changes.eventTypes ? JSON.stringify(changes.eventTypes) : null,
          set_description: changes.description === undefined ? 0 : 1,
          description: changes.description ?? null,
          enabled: enabled === undefined ? null : enabled.enabled ? 1 : 0,
          disabled_reason: enabled && !enabled.enabled ? enabled.reason : null,
        }).changes;
        if (updated > 0 && enabled?.enabled === false) this.failPending.run(id);
        return updated > 0;
      })
      // IMMEDIATE, as for creation: the duplicate check and the write hold the lock together.
      .immediate();
    if (typeof changed === "object") return changed;
    return changed ? this.getEndpoint(id) : null;
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.deleteEvents.run({ id });
      return this.deleteEndpointRow.run(id).changes > 0;
    })();
  }

  async enqueue(event: WebhookEventInput): Promise<number> {
    return this.db.transaction(() => enqueueToMatchingEndpoints(this.db, event).length)();
  }

  async enqueueFor(endpointId: string, event: WebhookEventInput): Promise<WebhookDeliveryRecord | null> {
    const id = this.db.transaction(() => {
      if (!this.endpointById.get(endpointId)) return null;
      return insertEventWithDeliveries(this.db, event, [endpointId])[0] ?? null;
    })();
    return id ? this.getDelivery(endpointId, id) : null;
  }

  onEnqueued(listener: () => void): () => void {
    return onWebhookEnqueued(this.db, listener);
  }

  async getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDeliveryRecord | null> {
    const row = this.deliveryById.get({ id: deliveryId, endpoint: endpointId }) as DeliveryRow | undefined;
    return row ? (this.withAttempts([row])[0] ?? null) : null;
  }

  async listDeliveries(endpointId: string, { limit, before }: PageQuery): Promise<WebhookDeliveryRecord[]> {
    const rows = this.deliveryPage.all({ endpoint: endpointId, before: before ?? "~", limit }) as DeliveryRow[];
    return this.withAttempts(rows);
  }

  async redeliver(endpointId: string, deliveryId: string, now: number): Promise<WebhookDeliveryRecord | null> {
    const changed = this.requeue.run({ id: deliveryId, endpoint: endpointId, now }).changes;
    if (changed > 0) wakeWebhookWorkers(this.db);
    return changed > 0 ? this.getDelivery(endpointId, deliveryId) : null;
  }

  async claimDue(now: number, limit: number, leaseMs: number, fairness: DeliveryFairness): Promise<ClaimedDelivery[]> {
    const token = randomUUID();
    const rows = this.db
      .transaction(() => {
        const ids = (
          this.fairDue.all({
            now,
            limit,
            per_endpoint: fairness.perEndpoint,
            per_workspace: fairness.perWorkspace,
          }) as { id: string }[]
        ).map((row) => row.id);
        if (ids.length === 0) return [];
        this.lease.run({ until: now + leaseMs, token, ids: JSON.stringify(ids) });
        return this.leased.all({ ids: JSON.stringify(ids), token }) as ClaimRow[];
      })
      // IMMEDIATE: the choice and the lease hold the write lock together, so two replicas never lease one row.
      .immediate();
    return rows.map((row) => ({
      id: row.id,
      claimToken: row.claim_token,
      eventId: row.event_id,
      body: row.body,
      roundAttempts: row.round_attempts,
      endpointId: row.endpoint_id,
      url: row.url,
      sealedSecret: row.secret_sealed,
    }));
  }

  async recordAttempt(
    claim: { id: string; claimToken: string },
    attempt: WebhookAttemptRecord,
    outcome: AttemptOutcome,
  ): Promise<void> {
    this.db.transaction(() => {
      const current = this.claimOf.get(claim.id) as { claim_token: string | null; endpoint_id: string } | undefined;
      if (!current) return; // the endpoint was deleted meanwhile
      this.insertAttempt.run({
        delivery: claim.id,
        at: attempt.at,
        status_code: attempt.statusCode,
        error: attempt.error,
        duration_ms: attempt.durationMs,
      });
      this.countAttempt.run(claim.id);
      if (current.claim_token !== claim.claimToken) return;
      if (outcome.next === "retry") {
        this.settle.run({ id: claim.id, status: "pending", next: outcome.at });
        return;
      }
      this.settle.run({ id: claim.id, status: outcome.next, next: null });
      if (outcome.next === "failed" && outcome.disableEndpoint !== undefined) {
        this.disableEndpoint.run(outcome.disableEndpoint, current.endpoint_id);
        this.failPending.run(current.endpoint_id);
      }
    })();
  }

  async release(claim: { id: string; claimToken: string }): Promise<void> {
    this.unlease.run(claim.id, claim.claimToken);
  }

  private withAttempts(rows: DeliveryRow[]): WebhookDeliveryRecord[] {
    if (rows.length === 0) return [];
    const attempts = new Map<string, WebhookAttemptRecord[]>();
    for (const row of this.attemptsOf.all(JSON.stringify(rows.map((r) => r.id))) as AttemptRow[]) {
      const list = attempts.get(row.delivery_id) ?? [];
      list.push(toAttempt(row));
      attempts.set(row.delivery_id, list);
    }
    return rows.map((row) => ({
      id: row.id,
      endpointId: row.endpoint_id,
      eventId: row.event_id,
      eventType: row.event_type,
      status: row.status,
      attemptCount: row.attempt_count,
      nextAttemptAt: row.next_attempt_at,
      createdAt: row.created_at,
      attempts: attempts.get(row.id) ?? [],
    }));
  }
}
