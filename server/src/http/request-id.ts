import { bytesToHex } from "@noble/hashes/utils.js";

const CLIENT_ID = /^[A-Za-z0-9._-]{1,128}$/;

// `req_` + 24 hex digits: 12 drawn at random once per process (48 bits, so replicas and restarts do not
// collide), then a 48-bit counter. A fresh random id per request was 2–3 % of the hot path's CPU (issue 11);
// request ids only need to be unique, not unguessable.
const processPart = bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(6)));
let counter = 0;

/** A client's own `X-Request-Id` is kept when it is safe to echo and log; otherwise the server makes one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === "string" && CLIENT_ID.test(header)) return header;
  counter = (counter + 1) % 0x1000000000000;
  return `req_${processPart}${counter.toString(16).padStart(12, "0")}`;
}
