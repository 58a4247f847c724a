import { WebhookVerificationError } from "./error.js";
import type { WebhookEvent } from "./event.js";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The event in a verified body. Only "a JSON object" is checked: the signature already proves Knify sent it,
 * and event types may be added (the spec marks the enum extensible).
 */
export function parseEvent(body: Uint8Array): WebhookEvent {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch (error) {
    throw new WebhookVerificationError(
      "payload_not_json",
      `Webhook payload is not JSON (${error instanceof Error ? error.message : String(error)}), although its signature is valid.`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WebhookVerificationError(
      "payload_not_json",
      `Webhook payload is JSON but not a Knify event: expected an object, got ${Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`}.`,
    );
  }
  return value as WebhookEvent;
}
