import type pg from "pg";
import { newId } from "../../ids.js";
import { envelopeBody } from "../envelope.js";
import type { WebhookEventInput } from "../webhook-event.js";
import { CHANNELS, notify } from "./notifications.js";

/**
 * Stores the event and one pending delivery per endpoint id, inside the caller's transaction, and wakes
 * every replica's delivery worker when it commits. An event no endpoint is owed is not stored.
 */
export async function insertEventWithDeliveries(
  client: pg.ClientBase,
  event: WebhookEventInput,
  endpointIds: readonly string[],
): Promise<string[]> {
  if (endpointIds.length === 0) return [];
  await client.query(
    "INSERT INTO webhook_events (id, workspace_id, type, created_at, body) VALUES ($1, $2, $3, $4, $5)",
    [event.id, event.workspaceId, event.type, event.createdAt, envelopeBody(event)],
  );
  const ids = endpointIds.map(() => newId("dlv"));
  await client.query(
    `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, attempt_count, round_attempts, next_attempt_at, created_at)
     SELECT d.id, d.endpoint, $3, 'pending', 0, 0, $4, $4 FROM unnest($1::text[], $2::text[]) AS d(id, endpoint)`,
    [ids, endpointIds, event.id, event.createdAt],
  );
  await notify(client, CHANNELS.webhooks);
  return ids;
}

/** Writes the event for every enabled endpoint of its workspace that wants its type; returns the delivery ids. */
export async function enqueueWebhookEvent(client: pg.ClientBase, event: WebhookEventInput): Promise<string[]> {
  const matching = await client.query<{ id: string }>(
    `SELECT id FROM webhook_endpoints WHERE workspace_id = $1 AND enabled = 1
       AND (event_types = '[]' OR event_types::jsonb ? $2) ORDER BY id`,
    [event.workspaceId, event.type],
  );
  return insertEventWithDeliveries(
    client,
    event,
    matching.rows.map((r) => r.id),
  );
}
