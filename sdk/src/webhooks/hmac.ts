import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

// @noble/hashes is pure JavaScript and synchronous; Web Crypto's `subtle.sign` would force `verify`
// to return a Promise, and `node:crypto` is absent in browsers and edge runtimes.

/** HMAC-SHA256 (RFC 2104) of `message` keyed with `key`. */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  return hmac(sha256, key, message);
}
