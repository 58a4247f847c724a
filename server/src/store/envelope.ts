import { iso } from "../timestamps.js";
import type { WebhookEventInput } from "./webhook-event.js";

/**
 * The envelope as sent: `{id, type, created_at, data}`. Serialised once, at enqueue time, so every attempt
 * and redelivery sends the same bytes (only `webhook-timestamp` and the Standard signature change).
 */
export function envelopeBody(event: WebhookEventInput): string {
  return JSON.stringify({ id: event.id, type: event.type, created_at: iso(event.createdAt), data: event.data });
}
