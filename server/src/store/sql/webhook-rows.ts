import type { WebhookEventType } from "../webhook-event.js";
import type {
  ClaimedDelivery,
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
  WebhookEndpointRecord,
} from "../webhooks-repo.js";

// The webhook tables' rows as the SQL stores return them (JSON as text, booleans as 0/1, times as numbers), and their records.

export interface EndpointRow {
  id: string;
  workspace_id: string;
  url: string;
  event_types: string;
  description: string | null;
  enabled: number;
  disabled_reason: string | null;
  created_at: number;
}

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: WebhookEventType;
  status: WebhookDeliveryStatus;
  attempt_count: number;
  next_attempt_at: number | null;
  created_at: number;
}

export interface AttemptRow {
  delivery_id: string;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface ClaimRow {
  id: string;
  claim_token: string;
  event_id: string;
  body: string;
  round_attempts: number;
  endpoint_id: string;
  url: string;
  secret_sealed: string;
}

export const toEndpoint = (row: EndpointRow): WebhookEndpointRecord => ({
  id: row.id,
  workspaceId: row.workspace_id,
  url: row.url,
  eventTypes: JSON.parse(row.event_types) as WebhookEventType[],
  description: row.description,
  enabled: row.enabled === 1,
  disabledReason: row.disabled_reason,
  createdAt: row.created_at,
});

export const toAttempt = (row: AttemptRow): WebhookAttemptRecord => ({
  at: row.at,
  statusCode: row.status_code,
  error: row.error,
  durationMs: row.duration_ms,
});

export const DELIVERY_COLUMNS = `d.id, d.endpoint_id, d.event_id, e.type AS event_type, d.status, d.attempt_count,
  d.next_attempt_at, d.created_at`;

export const toClaimed = (row: ClaimRow): ClaimedDelivery => ({
  id: row.id,
  claimToken: row.claim_token,
  eventId: row.event_id,
  body: row.body,
  roundAttempts: row.round_attempts,
  endpointId: row.endpoint_id,
  url: row.url,
  sealedSecret: row.secret_sealed,
});

/** Deliveries with their attempts (`attempts`: rows of any of them, oldest first). */
export function toDeliveries(deliveries: DeliveryRow[], attempts: AttemptRow[]): WebhookDeliveryRecord[] {
  const byDelivery = new Map<string, WebhookAttemptRecord[]>();
  for (const attempt of attempts) {
    const list = byDelivery.get(attempt.delivery_id) ?? [];
    list.push(toAttempt(attempt));
    byDelivery.set(attempt.delivery_id, list);
  }
  return deliveries.map((row) => ({
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attemptCount: row.attempt_count,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    attempts: byDelivery.get(row.id) ?? [],
  }));
}
