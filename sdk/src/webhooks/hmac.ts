import { hash, SHA256 } from "@stablelib/sha256";
import { utf8 } from "./bytes.js";

/** A piece of an HMAC's key or message: text is hashed as its UTF-8 bytes. */
export type HmacPart = string | Uint8Array;

type HmacSha256 = (key: HmacPart, parts: readonly HmacPart[]) => Uint8Array;

interface NodeCrypto {
  createHmac(
    algorithm: "sha256",
    key: HmacPart,
  ): {
    update(data: HmacPart): unknown;
    digest(): Uint8Array;
  };
}

/** SHA-256's block size in bytes: the HMAC key is padded (or first hashed) to it. */
const BLOCK = 64;

/**
 * HMAC (RFC 2104 §2) over @stablelib/sha256, pure JavaScript and synchronous, for browsers and edge runtimes:
 * Web Crypto's `subtle.sign` would force `verify` to return a Promise. The two-pass construction is written
 * here rather than taken from @stablelib/hmac, whose state save/restore we do not use and which cost 0.3 KB
 * of `@knify/sdk`'s 15 KB min+gzip budget (@noble/hashes cost 1 KB more than both). Checked against
 * node:crypto byte for byte, keys longer than a block included, by test/sdk/webhooks-runtimes.test.ts.
 */
const pureHmacSha256: HmacSha256 = (key, parts) => {
  const bytes = typeof key === "string" ? utf8(key) : key;
  const pad = new Uint8Array(BLOCK);
  pad.set(bytes.length > BLOCK ? hash(bytes) : bytes);
  const inner = new SHA256();
  for (let i = 0; i < BLOCK; i++) pad[i] = (pad[i] as number) ^ 0x36;
  inner.update(pad);
  for (const part of parts) inner.update(typeof part === "string" ? utf8(part) : part);
  const outer = new SHA256();
  // 0x36 ^ 0x6a === 0x5c: the inner pad becomes the outer pad.
  for (let i = 0; i < BLOCK; i++) pad[i] = (pad[i] as number) ^ 0x6a;
  outer.update(pad);
  outer.update(inner.digest());
  return outer.digest();
};

/**
 * `node:crypto` (OpenSSL) where the runtime hands it out synchronously: `process.getBuiltinModule` exists in
 * Node ≥ 20.16, Bun and Deno. It is looked up at run time rather than imported, so no bundler sees a
 * `node:` import (the entry still bundles for browsers) and importing the SDK does not load it.
 */
function nodeHmacSha256(): HmacSha256 | undefined {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  let crypto: Partial<NodeCrypto> | undefined;
  try {
    crypto = runtime?.getBuiltinModule?.("node:crypto") as Partial<NodeCrypto> | undefined;
  } catch {
    return undefined; // A shimmed `process` that refuses: use the pure implementation.
  }
  const createHmac = crypto?.createHmac?.bind(crypto);
  if (createHmac === undefined) return undefined;
  return (key, parts) => {
    const mac = createHmac("sha256", key);
    for (const part of parts) mac.update(part);
    const digest = mac.digest();
    // A view from this realm's Uint8Array, like the pure path returns: node:crypto's Buffer comes from Node's
    // realm, and a test runner's DOM environment (or a vm context) has another.
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  };
}

let implementation: HmacSha256 | undefined;

/**
 * HMAC-SHA256 (RFC 2104) of the concatenated `parts`, keyed with `key`. Both implementations give the same
 * bytes; `test/sdk/webhooks-runtimes.test.ts` runs the webhook vectors through each.
 */
export function hmacSha256(key: HmacPart, ...parts: HmacPart[]): Uint8Array {
  implementation ??= nodeHmacSha256() ?? pureHmacSha256;
  return implementation(key, parts);
}
