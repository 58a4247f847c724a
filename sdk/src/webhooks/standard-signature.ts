import { toBase64 } from "./bytes.js";
import { hmacSha256 } from "./hmac.js";

/** The Standard Webhooks headers (https://www.standardwebhooks.com, "Signature scheme"). */
export const WEBHOOK_ID_HEADER = "webhook-id";
export const WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp";
export const WEBHOOK_SIGNATURE_HEADER = "webhook-signature";

/**
 * The base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` (without the `v1,` version prefix).
 * The body is hashed as bytes, so a body that is not valid UTF-8 is still signed exactly as sent.
 */
export function standardSignature(key: Uint8Array, id: string, timestamp: string, body: Uint8Array): string {
  return toBase64(hmacSha256(key, `${id}.${timestamp}.`, body));
}
