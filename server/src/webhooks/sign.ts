import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";

// @noble/hashes and Web Crypto rather than node:crypto: the same rules run in `@knify/sdk/testing` (issue 9).
const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string): Uint8Array => {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    // A secret that is no base64 signs with no key bytes, as Buffer.from(…, "base64") read it.
    return new Uint8Array();
  }
};

const SECRET_PREFIX = "whsec_";

/** A new endpoint signing secret: `whsec_` + base64 of 24 random bytes (the Standard Webhooks format). */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(globalThis.crypto.getRandomValues(new Uint8Array(24)));
}

/** The signature headers of one attempt. */
export interface WebhookSignatureHeaders {
  "x-knify-signature": string;
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/**
 * Signs a delivery body twice with the endpoint secret:
 * - `X-Knify-Signature: sha256=<hex>`: HMAC-SHA256 of the raw body keyed with the whole secret as UTF-8, exactly
 *   what the seed's Python `verify_webhook` recomputes (`hmac.new(secret.encode(), payload.encode(), sha256)`);
 * - Standard Webhooks: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed with the base64-decoded
 *   part after `whsec_`, so receivers can also reject replays by the timestamp.
 * @example signWebhook(Buffer.from(body), secret, event.id, Math.floor(Date.now() / 1000))
 */
export function signWebhook(
  body: Uint8Array,
  secret: string,
  id: string,
  timestampSeconds: number,
): WebhookSignatureHeaders {
  const timestamp = String(timestampSeconds);
  const knify = bytesToHex(hmac(sha256, utf8ToBytes(secret), body));
  const key = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  const standard = toBase64(hmac(sha256, key, concatBytes(utf8ToBytes(`${id}.${timestamp}.`), body)));
  return {
    "x-knify-signature": `sha256=${knify}`,
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${standard}`,
  };
}
