import { bytesToHex } from "@noble/hashes/utils.js";

const CLIENT_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** A client's own `X-Request-Id` is kept when it is safe to echo and log; otherwise the server makes one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === "string" && CLIENT_ID.test(header)) return header;
  return `req_${bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(12)))}`;
}
