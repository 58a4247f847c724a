import { bytesToHex } from "@noble/hashes/utils.js";
import { utf8 } from "./bytes.js";
import { hmacSha256 } from "./hmac.js";

/** The header of Knify's original signature scheme (the authentication page's Python receiver). */
export const KNIFY_SIGNATURE_HEADER = "X-Knify-Signature";

/**
 * `sha256=` + lowercase hex HMAC-SHA256 of the raw body, keyed with the whole secret as UTF-8 text:
 * byte for byte what the seed's `hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()` gives.
 */
export function knifySignature(body: Uint8Array, secret: string): string {
  return `sha256=${bytesToHex(hmacSha256(utf8(secret), body))}`;
}
