import { randomUUID } from "node:crypto";
import type Database from "better-sqlite3";
import type { PageQuery } from "../page.js";
import { sameUrl } from "../same-url.js";
import {
  type AttemptRow,
  type ClaimRow,
  DELIVERY_COLUMNS,
  type DeliveryRow,
  type EndpointRow,
  toClaimed,
  toDeliveries,
  toEndpoint,
} from "../sql/webhook-rows.js";
import type { WebhookEventInput } from "../webhook-event.js";
import type {
  AttemptOutcome,
  ClaimedDelivery,
  DeliveryFairness,
  EndpointRefusal,
  NewWebhookEndpoint,
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookEndpointChanges,
  WebhookEndpointRecord,
  WebhookRepo,
} from "../webhooks-repo.js";
import { FAIR_DUE_SQL } from "./fair-due.js";
import {
  enqueueToMatchingEndpoints,
  insertEventWithDeliveries,
  onWebhookEnqueued,
  wakeWebhookWorkers,
} from "./outbox.js";

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
    this.fairDue = db.prepare(FAIR_DUE_SQL);
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
    return rows.map(toClaimed);
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
    return toDeliveries(rows, this.attemptsOf.all(JSON.stringify(rows.map((r) => r.id))) as AttemptRow[]);
  }
}
