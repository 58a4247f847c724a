import { randomUUID } from "node:crypto";
import type pg from "pg";
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
import { lockFor, type Queryable, row, rows, transaction } from "./database.js";
import { FAIR_DUE_SQL } from "./fair-due.js";
import { CHANNELS, type Notifications, notify } from "./notifications.js";
import { enqueueWebhookEvent, insertEventWithDeliveries } from "./outbox.js";

// One name for every replica's claims: they take turns, so the fair shares count every live lease.
const CLAIM_LOCK = "webhooks:claim";

const FAIL_PENDING = `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, claimed_until = NULL,
  claim_token = NULL WHERE endpoint_id = $1 AND status = 'pending'`;

/** Webhook endpoints and the outbox (events, deliveries, attempts), in PostgreSQL. */
export class PostgresWebhookRepo implements WebhookRepo {
  constructor(
    private readonly pool: pg.Pool,
    private readonly notifications: Notifications,
  ) {}

  async createEndpoint(
    endpoint: NewWebhookEndpoint,
    maxPerWorkspace: number,
  ): Promise<WebhookEndpointRecord | EndpointRefusal> {
    return transaction(this.pool, async (client) => {
      // Writers of one workspace's endpoints take turns: the cap and the duplicate check hold across replicas.
      await lockFor(client, `endpoints:${endpoint.workspaceId}`);
      const existing = await this.endpointsOf(client, endpoint.workspaceId);
      const same = sameUrl(existing, endpoint.url);
      if (same) return { refused: "duplicate", existingId: same };
      if (existing.length >= maxPerWorkspace) return { refused: "limit", count: existing.length };
      const created = await row<EndpointRow>(
        client,
        `INSERT INTO webhook_endpoints (id, workspace_id, url, event_types, description, secret_sealed, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [
          endpoint.id,
          endpoint.workspaceId,
          endpoint.url,
          JSON.stringify(endpoint.eventTypes),
          endpoint.description,
          endpoint.sealedSecret,
          endpoint.createdAt,
        ],
      );
      if (!created) throw new Error(`endpoint ${endpoint.id} was not inserted`);
      return toEndpoint(created);
    });
  }

  async getEndpoint(id: string): Promise<WebhookEndpointRecord | null> {
    const found = await row<EndpointRow>(this.pool, "SELECT * FROM webhook_endpoints WHERE id = $1", [id]);
    return found ? toEndpoint(found) : null;
  }

  async listEndpoints({ limit, before, workspaceId }: PageQuery & { workspaceId?: string }) {
    const found = await rows<EndpointRow>(
      this.pool,
      `SELECT * FROM webhook_endpoints WHERE ($1::text IS NULL OR id < $1) AND ($2::text IS NULL OR workspace_id = $2)
       ORDER BY id DESC LIMIT $3`,
      [before ?? null, workspaceId ?? null, limit],
    );
    return found.map(toEndpoint);
  }

  async updateEndpoint(
    id: string,
    changes: WebhookEndpointChanges,
  ): Promise<WebhookEndpointRecord | Extract<EndpointRefusal, { refused: "duplicate" }> | null> {
    return transaction(this.pool, async (client) => {
      const current = await row<EndpointRow>(client, "SELECT * FROM webhook_endpoints WHERE id = $1", [id]);
      if (!current) return null;
      await lockFor(client, `endpoints:${current.workspace_id}`);
      if (changes.url !== undefined) {
        const others = (await this.endpointsOf(client, current.workspace_id)).filter((e) => e.id !== id);
        const same = sameUrl(others, changes.url);
        if (same) return { refused: "duplicate" as const, existingId: same };
      }
      const { enabled } = changes;
      const updated = await row<EndpointRow>(
        client,
        `UPDATE webhook_endpoints SET url = coalesce($2, url), event_types = coalesce($3, event_types),
           description = CASE WHEN $4 THEN $5 ELSE description END, enabled = coalesce($6, enabled),
           disabled_reason = CASE WHEN $6::int IS NULL THEN disabled_reason ELSE $7 END
         WHERE id = $1 RETURNING *`,
        [
          id,
          changes.url ?? null,
          changes.eventTypes ? JSON.stringify(changes.eventTypes) : null,
          changes.description !== undefined,
          changes.description ?? null,
          enabled === undefined ? null : enabled.enabled ? 1 : 0,
          enabled && !enabled.enabled ? enabled.reason : null,
        ],
      );
      if (!updated) return null;
      if (enabled?.enabled === false) await client.query(FAIL_PENDING, [id]);
      return toEndpoint(updated);
    });
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    return transaction(this.pool, async (client) => {
      // Events that only this endpoint was owed go with it; the delivery rows cascade from both deletes.
      await client.query(
        `DELETE FROM webhook_events e WHERE e.id IN (SELECT event_id FROM webhook_deliveries WHERE endpoint_id = $1)
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.event_id = e.id AND o.endpoint_id <> $1)`,
        [id],
      );
      return ((await client.query("DELETE FROM webhook_endpoints WHERE id = $1", [id])).rowCount ?? 0) > 0;
    });
  }

  async enqueue(event: WebhookEventInput): Promise<number> {
    return transaction(this.pool, async (client) => (await enqueueWebhookEvent(client, event)).length);
  }

  async enqueueFor(endpointId: string, event: WebhookEventInput): Promise<WebhookDeliveryRecord | null> {
    const id = await transaction(this.pool, async (client) => {
      if (!(await row(client, "SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR SHARE", [endpointId]))) return null;
      return (await insertEventWithDeliveries(client, event, [endpointId]))[0] ?? null;
    });
    return id ? this.getDelivery(endpointId, id) : null;
  }

  onEnqueued(listener: () => void): () => void {
    return this.notifications.subscribe(CHANNELS.webhooks, () => listener());
  }

  async getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDeliveryRecord | null> {
    const found = await rows<DeliveryRow>(
      this.pool,
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
       WHERE d.id = $1 AND d.endpoint_id = $2`,
      [deliveryId, endpointId],
    );
    return (await this.withAttempts(found))[0] ?? null;
  }

  async listDeliveries(endpointId: string, { limit, before }: PageQuery): Promise<WebhookDeliveryRecord[]> {
    const found = await rows<DeliveryRow>(
      this.pool,
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
       WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.id < $2) ORDER BY d.id DESC LIMIT $3`,
      [endpointId, before ?? null, limit],
    );
    return this.withAttempts(found);
  }

  async redeliver(endpointId: string, deliveryId: string, now: number): Promise<WebhookDeliveryRecord | null> {
    const changed = await transaction(this.pool, async (client) => {
      const requeued = await client.query(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, round_attempts = 0,
           claimed_until = NULL, claim_token = NULL
         WHERE id = $1 AND endpoint_id = $2`,
        [deliveryId, endpointId, now],
      );
      if (requeued.rowCount) await notify(client, CHANNELS.webhooks);
      return (requeued.rowCount ?? 0) > 0;
    });
    return changed ? this.getDelivery(endpointId, deliveryId) : null;
  }

  async claimDue(now: number, limit: number, leaseMs: number, fairness: DeliveryFairness): Promise<ClaimedDelivery[]> {
    const token = randomUUID();
    const claimed = await transaction(this.pool, async (client) => {
      await lockFor(client, CLAIM_LOCK);
      const due = await rows<{ id: string }>(client, FAIR_DUE_SQL, [
        now,
        fairness.perEndpoint,
        fairness.perWorkspace,
        limit,
      ]);
      if (due.length === 0) return [];
      const ids = due.map((d) => d.id);
      await client.query("UPDATE webhook_deliveries SET claimed_until = $2, claim_token = $3 WHERE id = ANY($1)", [
        ids,
        now + leaseMs,
        token,
      ]);
      return rows<ClaimRow>(
        client,
        `SELECT d.id, d.claim_token, d.event_id, e.body, d.round_attempts, d.endpoint_id, w.url, w.secret_sealed
         FROM webhook_deliveries d
         JOIN webhook_events e ON e.id = d.event_id
         JOIN webhook_endpoints w ON w.id = d.endpoint_id
         WHERE d.id = ANY($1) AND d.claim_token = $2`,
        [ids, token],
      );
    });
    return claimed.map(toClaimed);
  }

  async recordAttempt(
    claim: { id: string; claimToken: string },
    attempt: WebhookAttemptRecord,
    outcome: AttemptOutcome,
  ): Promise<void> {
    await transaction(this.pool, async (client) => {
      const current = await row<{ claim_token: string | null; endpoint_id: string }>(
        client,
        "SELECT claim_token, endpoint_id FROM webhook_deliveries WHERE id = $1 FOR UPDATE",
        [claim.id],
      );
      if (!current) return; // the endpoint was deleted meanwhile
      await client.query(
        "INSERT INTO webhook_attempts (delivery_id, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5)",
        [claim.id, attempt.at, attempt.statusCode, attempt.error, attempt.durationMs],
      );
      await client.query("UPDATE webhook_deliveries SET attempt_count = attempt_count + 1 WHERE id = $1", [claim.id]);
      if (current.claim_token !== claim.claimToken) return;
      const settled =
        outcome.next === "retry" ? { status: "pending", next: outcome.at } : { status: outcome.next, next: null };
      await client.query(
        `UPDATE webhook_deliveries SET status = $2, next_attempt_at = $3, round_attempts = round_attempts + 1,
           claimed_until = NULL, claim_token = NULL
         WHERE id = $1`,
        [claim.id, settled.status, settled.next],
      );
      if (outcome.next === "failed" && outcome.disableEndpoint !== undefined) {
        await client.query("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $2 WHERE id = $1", [
          current.endpoint_id,
          outcome.disableEndpoint,
        ]);
        await client.query(FAIL_PENDING, [current.endpoint_id]);
      }
    });
  }

  async release(claim: { id: string; claimToken: string }): Promise<void> {
    await transaction(this.pool, async (client) => {
      const released = await client.query(
        "UPDATE webhook_deliveries SET claimed_until = NULL, claim_token = NULL WHERE id = $1 AND claim_token = $2",
        [claim.id, claim.claimToken],
      );
      if (released.rowCount) await notify(client, CHANNELS.webhooks);
    });
  }

  private endpointsOf(db: Queryable, workspaceId: string) {
    return rows<{ id: string; url: string }>(db, "SELECT id, url FROM webhook_endpoints WHERE workspace_id = $1", [
      workspaceId,
    ]);
  }

  private async withAttempts(found: DeliveryRow[]): Promise<WebhookDeliveryRecord[]> {
    if (found.length === 0) return [];
    const attempts = await rows<AttemptRow>(
      this.pool,
      "SELECT delivery_id, at, status_code, error, duration_ms FROM webhook_attempts WHERE delivery_id = ANY($1) ORDER BY id",
      [found.map((d) => d.id)],
    );
    return toDeliveries(found, attempts);
  }
}
