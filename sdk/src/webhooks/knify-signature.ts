import { timingSafeEqualHex, toHex } from "./bytes.js";
import { hmacSha256 } from "./hmac.js";

/** The header of Knify's original signature scheme (the authentication page's Python receiver). */
export const KNIFY_SIGNATURE_HEADER = "X-Knify-Signature";

const PREFIX = "sha256=";

/**
 * `sha256=` + lowercase hex HMAC-SHA256 of the raw body, keyed with the whole secret as UTF-8 text:
 * byte for byte what the seed's `hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()` gives.
 */
export function knifySignature(body: Uint8Array, secret: string): string {
  return PREFIX + toHex(hmacSha256(secret, body));
}

/**
 * Whether `signature` equals {@link knifySignature} of `body`, compared in constant time like the seed's
 * `hmac.compare_digest` (so uppercase hex, a missing prefix or whitespace do not match).
 */
export function matchesKnifySignature(body: Uint8Array, secret: string, signature: string): boolean {
  return timingSafeEqualHex(PREFIX, hmacSha256(secret, body), signature);
}
