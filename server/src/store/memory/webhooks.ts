import type { PageQuery } from "../page.js";
import { sameUrl } from "../same-url.js";
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
import { claimFairly } from "./fair-claim.js";
import { enqueueWebhookEvent, insertEventWithDeliveries, wakeWebhookWorkers } from "./outbox.js";
import { type DeliveryRow, type EndpointRow, type MemoryTables, pageByIdDesc } from "./tables.js";

const toEndpoint = ({ sealedSecret: _, ...record }: EndpointRow): WebhookEndpointRecord => structuredClone(record);

/** Webhook endpoints and the outbox (events, deliveries, attempts), in memory. */
export class MemoryWebhookRepo implements WebhookRepo {
  constructor(private readonly t: MemoryTables) {}

  async createEndpoint(
    endpoint: NewWebhookEndpoint,
    maxPerWorkspace: number,
  ): Promise<WebhookEndpointRecord | EndpointRefusal> {
    const existing = this.endpointsOf(endpoint.workspaceId);
    const same = sameUrl(existing, endpoint.url);
    if (same) return { refused: "duplicate", existingId: same };
    if (existing.length >= maxPerWorkspace) return { refused: "limit", count: existing.length };
    const row: EndpointRow = { ...structuredClone(endpoint), enabled: true, disabledReason: null };
    this.t.endpoints.set(endpoint.id, row);
    return toEndpoint(row);
  }

  async getEndpoint(id: string): Promise<WebhookEndpointRecord | null> {
    const row = this.t.endpoints.get(id);
    return row ? toEndpoint(row) : null;
  }

  async listEndpoints({ limit, before, workspaceId }: PageQuery & { workspaceId?: string }) {
    const rows = [...this.t.endpoints.values()].filter(
      (e) => workspaceId === undefined || e.workspaceId === workspaceId,
    );
    return pageByIdDesc(rows, limit, before).map(toEndpoint);
  }

  async updateEndpoint(
    id: string,
    changes: WebhookEndpointChanges,
  ): Promise<WebhookEndpointRecord | Extract<EndpointRefusal, { refused: "duplicate" }> | null> {
    const row = this.t.endpoints.get(id);
    if (!row) return null;
    if (changes.url !== undefined) {
      const same = sameUrl(
        this.endpointsOf(row.workspaceId).filter((e) => e.id !== id),
        changes.url,
      );
      if (same) return { refused: "duplicate", existingId: same };
      row.url = changes.url;
    }
    if (changes.eventTypes !== undefined) row.eventTypes = [...changes.eventTypes];
    if (changes.description !== undefined) row.description = changes.description;
    const { enabled } = changes;
    if (enabled !== undefined) {
      row.enabled = enabled.enabled;
      row.disabledReason = enabled.enabled ? null : enabled.reason;
      if (!enabled.enabled) this.failPending(id);
    }
    return toEndpoint(row);
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    if (!this.t.endpoints.has(id)) return false;
    const events = new Set<string>();
    for (const d of this.t.deliveries.values()) {
      if (d.endpointId !== id) continue;
      events.add(d.eventId);
      this.t.deliveries.delete(d.id);
    }
    // Events that only this endpoint was owed go with it.
    for (const d of this.t.deliveries.values()) events.delete(d.eventId);
    for (const eventId of events) this.t.webhookEvents.delete(eventId);
    this.t.endpoints.delete(id);
    return true;
  }

  async enqueue(event: WebhookEventInput): Promise<number> {
    return enqueueWebhookEvent(this.t, event).length;
  }

  async enqueueFor(endpointId: string, event: WebhookEventInput): Promise<WebhookDeliveryRecord | null> {
    if (!this.t.endpoints.has(endpointId)) return null;
    const [id] = insertEventWithDeliveries(this.t, event, [endpointId]);
    return id === undefined ? null : this.getDelivery(endpointId, id);
  }

  onEnqueued(listener: () => void): () => void {
    // A wrapper per subscription, so that subscribing one function twice gives two independent unsubscribes.
    const subscription = () => listener();
    this.t.enqueueListeners.add(subscription);
    return () => this.t.enqueueListeners.delete(subscription);
  }

  async getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDeliveryRecord | null> {
    const row = this.t.deliveries.get(deliveryId);
    return row && row.endpointId === endpointId ? this.present(row) : null;
  }

  async listDeliveries(endpointId: string, { limit, before }: PageQuery): Promise<WebhookDeliveryRecord[]> {
    const rows = [...this.t.deliveries.values()].filter((d) => d.endpointId === endpointId);
    return pageByIdDesc(rows, limit, before).map((row) => this.present(row));
  }

  async redeliver(endpointId: string, deliveryId: string, now: number): Promise<WebhookDeliveryRecord | null> {
    const row = this.t.deliveries.get(deliveryId);
    if (!row || row.endpointId !== endpointId) return null;
    Object.assign(row, {
      status: "pending",
      nextAttemptAt: now,
      roundAttempts: 0,
      claimedUntil: null,
      claimToken: null,
    });
    wakeWebhookWorkers(this.t);
    return this.present(row);
  }

  async claimDue(now: number, limit: number, leaseMs: number, fairness: DeliveryFairness): Promise<ClaimedDelivery[]> {
    const chosen = claimFairly(this.t, now, limit, fairness);
    if (chosen.length === 0) return [];
    const claimToken = crypto.randomUUID();
    return chosen.map((row) => {
      row.claimedUntil = now + leaseMs;
      row.claimToken = claimToken;
      const endpoint = this.t.endpoints.get(row.endpointId) as EndpointRow;
      return {
        id: row.id,
        claimToken,
        eventId: row.eventId,
        body: this.t.webhookEvents.get(row.eventId)?.body ?? "",
        roundAttempts: row.roundAttempts,
        endpointId: row.endpointId,
        url: endpoint.url,
        sealedSecret: endpoint.sealedSecret,
      };
    });
  }

  async recordAttempt(
    claim: { id: string; claimToken: string },
    attempt: WebhookAttemptRecord,
    outcome: AttemptOutcome,
  ): Promise<void> {
    const row = this.t.deliveries.get(claim.id);
    if (!row) return; // the endpoint was deleted meanwhile
    row.attempts.push({ ...attempt });
    row.attemptCount += 1;
    if (row.claimToken !== claim.claimToken) return;
    const settled = { roundAttempts: row.roundAttempts + 1, claimedUntil: null, claimToken: null };
    if (outcome.next === "retry") {
      Object.assign(row, settled, { status: "pending", nextAttemptAt: outcome.at });
      return;
    }
    Object.assign(row, settled, { status: outcome.next, nextAttemptAt: null });
    const endpoint = this.t.endpoints.get(row.endpointId);
    if (outcome.next === "failed" && outcome.disableEndpoint !== undefined && endpoint) {
      endpoint.enabled = false;
      endpoint.disabledReason = outcome.disableEndpoint;
      this.failPending(endpoint.id);
    }
  }

  async release(claim: { id: string; claimToken: string }): Promise<void> {
    const row = this.t.deliveries.get(claim.id);
    if (row && row.claimToken === claim.claimToken) Object.assign(row, { claimedUntil: null, claimToken: null });
  }

  /** Inspection (not part of the Store): every delivery, newest first, with the envelope it carries as sent. */
  queued(): { delivery: WebhookDeliveryRecord; envelope: unknown }[] {
    return pageByIdDesc(this.t.deliveries.values(), this.t.deliveries.size).map((row) => ({
      delivery: this.present(row),
      envelope: JSON.parse(this.t.webhookEvents.get(row.eventId)?.body ?? "null"),
    }));
  }

  private endpointsOf(workspaceId: string): EndpointRow[] {
    return [...this.t.endpoints.values()].filter((e) => e.workspaceId === workspaceId);
  }

  private failPending(endpointId: string): void {
    for (const d of this.t.deliveries.values()) {
      if (d.endpointId === endpointId && d.status === "pending") {
        Object.assign(d, { status: "failed", nextAttemptAt: null, claimedUntil: null, claimToken: null });
      }
    }
  }

  private present(row: DeliveryRow): WebhookDeliveryRecord {
    return {
      id: row.id,
      endpointId: row.endpointId,
      eventId: row.eventId,
      eventType: (this.t.webhookEvents.get(row.eventId) as { type: WebhookDeliveryRecord["eventType"] }).type,
      status: row.status,
      attemptCount: row.attemptCount,
      nextAttemptAt: row.nextAttemptAt,
      createdAt: row.createdAt,
      attempts: row.attempts.map((a) => ({ ...a })),
    };
  }
}
