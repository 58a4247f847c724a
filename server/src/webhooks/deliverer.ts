import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import type { WebhookSettings } from "./config.js";
import { type Deliverer, describeFailure, redirectError, refusedTarget } from "./delivery.js";
import { guardedLookup } from "./guarded-lookup.js";
import type { ResolveAll } from "./ssrf.js";

export type { Deliverer, DeliveryRequest, DeliveryResult } from "./delivery.js";

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
      const refused = refusedTarget(target, settings.allowPrivate);
      if (refused) return refused;
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
        const error = redirectError(response.statusCode, typeof location === "string" ? location : null);
        return { statusCode: response.statusCode, error, durationMs: elapsed(), aborted: false };
      } catch (error) {
        return {
          statusCode: null,
          error: describeFailure(error),
          durationMs: elapsed(),
          aborted: signal?.aborted ?? false,
        };
      }
    },
    async close() {
      await agent.close();
    },
  };
}
