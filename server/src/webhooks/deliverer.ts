import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import type { WebhookSettings } from "./config.js";
import { guardedLookup } from "./guarded-lookup.js";
import { blockedReason, hostOf, type ResolveAll } from "./ssrf.js";

/** One POST of a delivery. */
export interface DeliveryRequest {
  url: string;
  body: Buffer;
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

function describe(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e.message === "string" && e.message !== "" ? e.message : String(error);
  const code = typeof e.code === "string" && !message.includes(e.code) ? `${e.code}: ` : "";
  return `${code}${message}`.slice(0, MAX_ERROR_LENGTH);
}

/**
 * The production deliverer: `undici.request` on one pooled keep-alive Agent, with connect, headers and body
 * timeouts, no redirects (undici 7's `request` follows none; a 3xx is a failed attempt), and every response
 * body dumped so the connection returns to the pool. Unless private targets are allowed, the Agent connects
 * through {@link guardedLookup}, so the address is checked when the socket is opened, not only at registration.
 * @example const deliverer = createDeliverer(loadWebhookSettings(process.env));
 */
export function createDeliverer(
  settings: Pick<WebhookSettings, "allowPrivate" | "connectTimeoutMs" | "headersTimeoutMs" | "bodyTimeoutMs">,
  options: { resolveAll?: ResolveAll } = {},
): Deliverer {
  const agent = new Agent({
    connect: {
      timeout: settings.connectTimeoutMs,
      ...(settings.allowPrivate ? {} : { lookup: guardedLookup(options.resolveAll) }),
    },
    headersTimeout: settings.headersTimeoutMs,
    bodyTimeout: settings.bodyTimeoutMs,
    connections: 16,
  });

  return {
    async send({ url, body, headers, signal }) {
      const target = new URL(url);
      // An IP literal never goes through `lookup`, so it is checked here.
      const host = hostOf(target);
      const reason = settings.allowPrivate || isIP(host) === 0 ? null : blockedReason(host);
      if (reason) {
        return { statusCode: null, error: `refused: ${host} is ${reason}`, durationMs: 0, aborted: false };
      }
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      try {
        const response = await request(target, {
          method: "POST",
          body,
          headers,
          dispatcher: agent,
          ...(signal ? { signal } : {}),
        });
        // The answer is the status; a receiver that trickles or breaks its body does not change it.
        await response.body.dump().catch(() => undefined);
        const location = response.headers.location;
        const error =
          response.statusCode >= 300 && response.statusCode < 400
            ? `redirect${typeof location === "string" ? ` to ${location.slice(0, 200)}` : ""} not followed: register the final URL`
            : null;
        return { statusCode: response.statusCode, error, durationMs: elapsed(), aborted: false };
      } catch (error) {
        return { statusCode: null, error: describe(error), durationMs: elapsed(), aborted: signal?.aborted ?? false };
      }
    },
    async close() {
      await agent.close();
    },
  };
}
