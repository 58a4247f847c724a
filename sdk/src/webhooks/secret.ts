import { fromBase64, randomBytes, toBase64 } from "./bytes.js";
import { WebhookVerificationError } from "./error.js";

/** The prefix of every Knify (and Standard Webhooks) signing secret. */
export const SECRET_PREFIX = "whsec_";

/**
 * A new signing secret in the format Knify issues: `whsec_` + base64 of 24 random bytes.
 * For your own tests; in production, use the secret Knify returned when the endpoint was created.
 */
export function generateSecret(): string {
  // randomBytes uses crypto.getRandomValues, which every supported runtime has.
  return SECRET_PREFIX + toBase64(randomBytes(24));
}

/** Throws unless `secret` is a non-empty string: an unset environment variable is the usual cause. */
export function assertSecret(secret: unknown, label = "Webhook secret"): asserts secret is string {
  if (typeof secret !== "string" || secret === "") {
    throw new WebhookVerificationError(
      "secret_invalid",
      `${label} is ${secret === "" ? "empty" : `missing (got ${typeof secret})`}: pass the endpoint's signing secret ` +
        `(${SECRET_PREFIX}…, shown once when the endpoint was created), e.g. from an environment variable that is set.`,
    );
  }
}

/**
 * The Standard Webhooks HMAC key: the base64-decoded part of the secret after `whsec_`
 * (a secret without the prefix is accepted, as the Standard Webhooks libraries do).
 */
export function secretKey(secret: string, label = "Webhook secret"): Uint8Array {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = fromBase64(encoded);
  if (key === undefined || key.length === 0) {
    const whitespace = /\s/.test(secret)
      ? " It contains whitespace: a trailing newline from a file or .env is a common slip."
      : "";
    throw new WebhookVerificationError(
      "secret_invalid",
      `${label} is not a Knify signing secret: expected ${SECRET_PREFIX} followed by base64 (as returned when the endpoint was created).${whitespace}`,
    );
  }
  return key;
}
