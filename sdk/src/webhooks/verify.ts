import { matchesKnifySignature } from "./knify-signature.js";
import { payloadBytes, type WebhookPayload } from "./payload.js";
import { assertSecret } from "./secret.js";

/**
 * Checks an `X-Knify-Signature` header with exactly the semantics of the Python receiver on Knify's
 * authentication page: `sha256=` + lowercase hex HMAC-SHA256 of the raw body keyed with the whole secret
 * (`whsec_…`) as UTF-8, compared in constant time. There is no timestamp, so this does not stop replays;
 * prefer {@link unwrap}, which also checks the Standard Webhooks headers.
 *
 * Returns `false` for a wrong or absent signature. Throws {@link WebhookVerificationError} for caller
 * mistakes: a payload that is not the raw body (e.g. already parsed JSON) or a missing secret.
 *
 * @example
 * app.post("/knify", express.raw({ type: "application/json" }), (req, res) => {
 *   if (!verify(req.body, req.get("X-Knify-Signature") ?? "", process.env.KNIFY_WEBHOOK_SECRET!)) return res.sendStatus(400);
 *   const event = JSON.parse(req.body.toString("utf8"));
 * });
 */
export function verify(payload: WebhookPayload, signature: string, secret: string): boolean {
  const body = payloadBytes(payload);
  assertSecret(secret);
  // A missing header (undefined) or a repeated one (string[]) is simply not a valid signature.
  if (typeof signature !== "string") return false;
  return matchesKnifySignature(body, secret, signature);
}
