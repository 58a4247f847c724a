import { randomBytes, toHex } from "./bytes.js";
import { KNIFY_SIGNATURE_HEADER, knifySignature } from "./knify-signature.js";
import { payloadBytes, type WebhookPayload } from "./payload.js";
import { assertSecret, secretKey } from "./secret.js";
import { standardSignature } from "./standard-signature.js";

/** Input of {@link sign}. */
export interface SignInput {
  /** The exact body you will send. */
  payload: WebhookPayload;
  /** The endpoint's signing secret (`whsec_…`); {@link generateSecret} makes one. */
  secret: string;
  /** The `webhook-id`. Default: the payload's `id` when it is a JSON object with one (as Knify sends), else a random `evt_…`. */
  id?: string;
  /** The `webhook-timestamp`. Default: now. */
  timestamp?: Date;
}

/**
 * The headers Knify sends with a delivery. A type alias, not an interface: only an alias is assignable to
 * `Record<string, string>`, so `fetch(url, { headers: sign(…) })` compiles under `strict` (issue 14).
 */
export type SignedWebhookHeaders = {
  "X-Knify-Signature": string;
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

/**
 * Signs a payload the way Knify signs deliveries, so you can test your receiver without a server.
 *
 * @example
 * const secret = generateSecret();
 * const body = JSON.stringify({ id: "evt_1", type: "webhook.test", created_at: new Date().toISOString(), data: {} });
 * const response = await fetch("http://localhost:3000/knify", { method: "POST", body, headers: sign({ payload: body, secret }) });
 */
export function sign(input: SignInput): SignedWebhookHeaders {
  const body = payloadBytes(input.payload);
  assertSecret(input.secret);
  const id = input.id ?? eventId(input.payload) ?? `evt_${toHex(randomBytes(12))}`;
  const timestamp = String(Math.floor((input.timestamp ?? new Date()).getTime() / 1000));
  return {
    [KNIFY_SIGNATURE_HEADER]: knifySignature(body, input.secret),
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${standardSignature(secretKey(input.secret), id, timestamp, body)}`,
  };
}

function eventId(payload: WebhookPayload): string | undefined {
  try {
    const value: unknown = JSON.parse(typeof payload === "string" ? payload : new TextDecoder().decode(payload));
    const id = typeof value === "object" && value !== null ? (value as { id?: unknown }).id : undefined;
    return typeof id === "string" && id !== "" ? id : undefined;
  } catch {
    return undefined;
  }
}
