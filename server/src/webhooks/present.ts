import type { components } from "../generated/schema.js";
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from "../store/webhooks-repo.js";
import { iso, isoOrNull } from "../timestamps.js";

type Schemas = components["schemas"];

/** An endpoint as the API shows it, never with its secret. */
export function presentEndpoint(endpoint: WebhookEndpointRecord): Schemas["WebhookEndpoint"] {
  return {
    id: endpoint.id,
    workspace_id: endpoint.workspaceId,
    url: endpoint.url,
    event_types: endpoint.eventTypes,
    description: endpoint.description,
    enabled: endpoint.enabled,
    disabled_reason: endpoint.disabledReason,
    created_at: iso(endpoint.createdAt),
  };
}

/** A delivery with its attempts, oldest attempt first. */
export function presentDelivery(delivery: WebhookDeliveryRecord): Schemas["WebhookDelivery"] {
  return {
    id: delivery.id,
    endpoint_id: delivery.endpointId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    next_attempt_at: isoOrNull(delivery.nextAttemptAt),
    created_at: iso(delivery.createdAt),
    attempts: delivery.attempts.map((a) => ({
      at: iso(a.at),
      status_code: a.statusCode,
      error: a.error,
      duration_ms: a.durationMs,
    })),
  };
}
