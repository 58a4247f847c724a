import { utf8 } from "./bytes.js";
import { WebhookVerificationError } from "./error.js";

/** The raw request body exactly as received: the text, or the bytes (a Node `Buffer` is a `Uint8Array`). */
export type WebhookPayload = string | Uint8Array;

const rawBodyHint =
  "Signatures cover the exact bytes Knify sent, so pass the raw body: express.raw({ type: 'application/json' }) " +
  "in Express, ctx.request.rawBody in Koa, await request.text() with fetch-style requests (Hono, Next.js, workers).";

/** The bytes that were signed, or a diagnosis of what was passed instead of the raw body. */
export function payloadBytes(payload: unknown): Uint8Array {
  if (typeof payload === "string") return utf8(payload);
  if (payload instanceof Uint8Array) return payload;
  if (payload === undefined || payload === null) {
    throw new WebhookVerificationError(
      "payload_not_raw",
      `Webhook payload is missing (got ${payload}). ${rawBodyHint}`,
    );
  }
  // Stripe's most frequent support case: a JSON body parser ran before the webhook handler.
  const what = isParsedJson(payload)
    ? "a parsed JavaScript object: the body was already parsed as JSON, and re-serialising it does not give back the signed bytes"
    : `a ${describe(payload)}, not a string or Uint8Array`;
  throw new WebhookVerificationError("payload_not_raw", `Webhook payload is ${what}. ${rawBodyHint}`);
}

function isParsedJson(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return Array.isArray(value) || prototype === Object.prototype || prototype === null;
}

function describe(value: unknown): string {
  // "[object ArrayBuffer]" -> "ArrayBuffer"; works for objects without a constructor too.
  return typeof value === "object" ? Object.prototype.toString.call(value).slice(8, -1) : typeof value;
}
