import { generateApiKey } from "../../../server/src/auth/key-format.js";

/** Random ids and secrets in the formats the spec documents. Uses Web Crypto, so it runs wherever msw does. */

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `length` random base62 characters (rejection sampling keeps the distribution uniform). */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of globalThis.crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** An object id such as `job_…`, `ws_…`, `key_…` (matches the spec's `^<prefix>_[A-Za-z0-9]{1,64}$`). */
export const newId = (prefix: string): string => `${prefix}_${randomBase62(24)}`;

/**
 * An API key secret as the server issues it (`knify_<type>_`, 32 base62 characters, `_`, and 6 hex digits of
 * the SHA-256 of what precedes them): the server's own generator, so the mock's keys pass its checksum.
 */
export const newApiKeySecret = (type: "live" | "test"): string => generateApiKey(type).apiKey;

/** A webhook signing secret: `whsec_` + base64 of 24 random bytes (the Standard Webhooks form). */
export function newWebhookSecret(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}
