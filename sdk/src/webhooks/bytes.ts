// Byte helpers that need neither `node:crypto` nor `Buffer`, so the webhooks entry point runs
// unchanged in Node, Deno, Bun, browsers and edge workers (issue item 5).

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`, as Python's `str.encode()` makes them. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Standard base64 (RFC 4648 §4, padded), the alphabet Standard Webhooks signatures and secrets use. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Decodes standard base64, or returns `undefined` when `text` is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  // atob is forgiving about whitespace and missing padding; a secret with either is a copy-paste slip,
  // so the alphabet is checked strictly first.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) return undefined;
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * Compares two strings in time that depends only on their lengths, like Python's
 * `hmac.compare_digest`, so an attacker cannot learn a signature byte by byte from response times.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = utf8(a);
  const right = utf8(b);
  // The expected signature's length is public (it is fixed by the algorithm), so leaving early leaks nothing.
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let i = 0; i < left.length; i++) difference |= (left[i] as number) ^ (right[i] as number);
  return difference === 0;
}
