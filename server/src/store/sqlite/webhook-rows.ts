import type { WebhookEventType } from "../webhook-event.js";
import type { WebhookAttemptRecord, WebhookDeliveryStatus, WebhookEndpointRecord } from "../webhooks-repo.js";

// The webhook tables' rows as SQLite returns them, and their records.

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
