import { createHmac, randomBytes } from "node:crypto";

const SECRET_PREFIX = "whsec_";

/** A new endpoint signing secret: `whsec_` + base64 of 24 random bytes (the Standard Webhooks format). */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString("base64");
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
  body: Buffer,
  secret: string,
  id: string,
  timestampSeconds: number,
): WebhookSignatureHeaders {
  const timestamp = String(timestampSeconds);
  const knify = createHmac("sha256", Buffer.from(secret, "utf8")).update(body).digest("hex");
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
  const standard = createHmac("sha256", key).update(`${id}.${timestamp}.`, "utf8").update(body).digest("base64");
  return {
    "x-knify-signature": `sha256=${knify}`,
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${standard}`,
  };
}
