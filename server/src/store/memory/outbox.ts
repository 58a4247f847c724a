import { newId } from "../../ids.js";
import { envelopeBody } from "../envelope.js";
import type { WebhookEventInput } from "../webhook-event.js";
import type { MemoryTables } from "./tables.js";

/** Stores the event and one pending delivery per endpoint id; an event no endpoint is owed is not stored. */
export function insertEventWithDeliveries(
  t: MemoryTables,
  event: WebhookEventInput,
  endpointIds: readonly string[],
): string[] {
  if (endpointIds.length === 0) return [];
  t.webhookEvents.set(event.id, {
    id: event.id,
    workspaceId: event.workspaceId,
    type: event.type,
    createdAt: event.createdAt,
    body: envelopeBody(event),
  });
  const ids = endpointIds.map((endpointId) => {
    const id = newId("dlv");
    t.deliveries.set(id, {
      id,
      endpointId,
      eventId: event.id,
      status: "pending",
      attemptCount: 0,
      roundAttempts: 0,
      nextAttemptAt: event.createdAt,
      claimedUntil: null,
      claimToken: null,
      createdAt: event.createdAt,
      attempts: [],
    });
    return id;
  });
  wakeWebhookWorkers(t);
  return ids;
}

/** Writes the event for every enabled endpoint of its workspace that wants its type; returns the delivery ids. */
export function enqueueWebhookEvent(t: MemoryTables, event: WebhookEventInput): string[] {
  const matching: string[] = [];
  for (const endpoint of t.endpoints.values()) {
    if (endpoint.workspaceId !== event.workspaceId || !endpoint.enabled) continue;
    if (endpoint.eventTypes.length === 0 || endpoint.eventTypes.includes(event.type)) matching.push(endpoint.id);
  }
  return insertEventWithDeliveries(t, event, matching);
}

/** Tells the subscribers (the delivery worker) that a delivery became due, after the current step. */
export function wakeWebhookWorkers(t: MemoryTables): void {
  if (t.enqueueListeners.size === 0) return;
  // A timer, not a call: listeners run after the writing method returned, as after a commit elsewhere.
  setTimeout(() => {
    for (const listener of t.enqueueListeners) listener();
  }, 0);
}
