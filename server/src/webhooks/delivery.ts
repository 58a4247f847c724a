// What every deliverer shares, runtime-neutral: the undici one (deliverer.ts) and the fetch one (fetch-deliverer.ts).

import { blockedReason, hostOf, ipVersion } from "./ssrf.js";

/** One POST of a delivery. */
export interface DeliveryRequest {
  url: string;
  body: Uint8Array;
  headers: Record<string, string>;
  /** Aborts the attempt (server shutdown); the result then has `aborted: true` and must not count. */
  signal?: AbortSignal;
}

/** What came of one attempt: a status code, or an error when no response came. */
export interface DeliveryResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  aborted: boolean;
}

/** Sends webhook requests. Injected, so the worker can be tested with a fake. */
export interface Deliverer {
  send(request: DeliveryRequest): Promise<DeliveryResult>;
  close(): Promise<void>;
}

const MAX_ERROR_LENGTH = 500;

/** What went wrong with an attempt that got no response, for the delivery record (capped). */
export function describeFailure(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e.message === "string" && e.message !== "" ? e.message : String(error);
  const code = typeof e.code === "string" && !message.includes(e.code) ? `${e.code}: ` : "";
  return `${code}${message}`.slice(0, MAX_ERROR_LENGTH);
}

/** The error of a 3xx answer: redirects are never followed (the receiver must be registered by its final URL). */
export function redirectError(statusCode: number, location: string | null): string | null {
  if (statusCode < 300 || statusCode >= 400) return null;
  return `redirect${location === null ? "" : ` to ${location.slice(0, 200)}`} not followed: register the final URL`;
}

/**
 * The refusal of a target given as an IP literal in a blocked range, before any connection; null to go ahead.
 * A host name is checked where its address is known (at connect, or at registration for `fetch`).
 */
export function refusedTarget(url: URL, allowPrivate: boolean): DeliveryResult | null {
  if (allowPrivate) return null;
  const host = hostOf(url);
  const reason = ipVersion(host) === 0 ? null : blockedReason(host);
  return reason ? { statusCode: null, error: `refused: ${host} is ${reason}`, durationMs: 0, aborted: false } : null;
}
