import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { KeyType } from "../store/store.js";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_CHARS = 32; // 32 base62 characters = 190 bits
const KEY_PATTERN = /^knify_(live|test)_([0-9A-Za-z]{32})_([0-9a-f]{6})$/;

// The same rules run in `@knify/sdk/testing` (issue 9), in browsers too, so node:crypto is not imported: in
// Node it is taken from `process.getBuiltinModule` (two JS SHA-256 per request were ~3 % of the hot path's
// CPU, issue 11), elsewhere @noble/hashes computes the same digest.
const nodeCrypto = globalThis.process?.getBuiltinModule?.("node:crypto") as typeof import("node:crypto") | undefined;
// crypto.hash (one-shot, Node ≥ 20.12) is ~3× faster than createHash for a key-sized input.
const sha256Hex: (text: string) => string = nodeCrypto
  ? (text) => nodeCrypto.hash("sha256", text, "hex")
  : (text) => bytesToHex(sha256(utf8ToBytes(text)));

function checksum(body: string): string {
  return sha256Hex(body).slice(0, 6);
}

/** `count` characters drawn uniformly from ALPHABET (bytes ≥ 248 are redrawn: 248 = 4 × 62, no modulo bias). */
function randomChars(count: number): string {
  let out = "";
  while (out.length < count) {
    for (const byte of globalThis.crypto.getRandomValues(new Uint8Array(count))) {
      if (byte < 248 && out.length < count) out += ALPHABET[byte % ALPHABET.length];
    }
  }
  return out;
}

/**
 * A new secret: `knify_<type>_` + 32 base62 characters + `_` + a 6-hex-digit checksum of what precedes it.
 * The checksum lets a mistyped or truncated key be refused without a store lookup, and gives secret
 * scanners a format they can match without false positives.
 */
export function generateApiKey(type: KeyType): { apiKey: string; prefix: string } {
  const random = randomChars(RANDOM_CHARS);
  const body = `knify_${type}_${random}`;
  return { apiKey: `${body}_${checksum(body)}`, prefix: `knify_${type}_${random.slice(0, 4)}` };
}

/** The key's type when it is well formed and its checksum matches; null otherwise. */
export function parseApiKey(apiKey: string): { type: KeyType } | null {
  const match = KEY_PATTERN.exec(apiKey);
  if (!match) return null;
  const body = apiKey.slice(0, -7);
  if (checksum(body) !== match[3]) return null;
  return { type: match[1] as KeyType };
}

/**
 * Only this hash is stored. Keys carry 190 random bits, so a fast hash is enough (no salt or KDF needed),
 * and lookups are by hash equality in an index: no code path compares secret bytes, so response time
 * reveals nothing about how much of a guessed key was right.
 */
export function hashApiKey(apiKey: string): string {
  return sha256Hex(apiKey);
}
