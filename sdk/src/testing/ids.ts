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

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * An API key secret as the spec's bearerAuth describes it: `knify_<type>_`, 32 base62 characters, `_`,
 * and 6 hex digits of the CRC-32 of what precedes them.
 */
export function newApiKeySecret(type: "live" | "test"): string {
  const body = `knify_${type}_${randomBase62(32)}`;
  return `${body}_${crc32(body).toString(16).padStart(8, "0").slice(0, 6)}`;
}

/** A webhook signing secret: `whsec_` + base64 of 24 random bytes (the Standard Webhooks form). */
export function newWebhookSecret(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}
