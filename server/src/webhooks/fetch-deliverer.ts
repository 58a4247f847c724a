import type { WebhookSettings } from "./config.js";
import { type Deliverer, describeFailure, redirectError, refusedTarget } from "./delivery.js";

/**
 * A runtime-neutral deliverer on the platform's `fetch` (an edge runtime, a Service Worker, the mock): no
 * redirects followed, one deadline for the whole answer (connect + headers + body timeouts), the response body
 * discarded. `fetch` gives no say over which address is connected, so unless private targets are allowed it
 * refuses IP literals in blocked ranges here and relies on the check made when the endpoint was registered for
 * host names — the server itself uses the undici deliverer, which checks every connection (`deliverer.ts`).
 * @example const deliverer = fetchDeliverer(loadWebhookSettings(env));
 */
export function fetchDeliverer(
  settings: Pick<WebhookSettings, "allowPrivate" | "connectTimeoutMs" | "headersTimeoutMs" | "bodyTimeoutMs">,
  send: typeof fetch = (input, init) => fetch(input, init),
): Deliverer {
  const deadlineMs = settings.connectTimeoutMs + settings.headersTimeoutMs + settings.bodyTimeoutMs;
  return {
    async send({ url, body, headers, signal }) {
      const refused = refusedTarget(new URL(url), settings.allowPrivate);
      if (refused) return refused;
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const timeout = AbortSignal.timeout(deadlineMs);
      try {
        const response = await send(url, {
          method: "POST",
          body: body as Uint8Array<ArrayBuffer>,
          headers,
          redirect: "manual",
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        // The answer is the status; a receiver that trickles or breaks its body does not change it.
        await response.body?.cancel().catch(() => undefined);
        return {
          statusCode: response.status,
          error: redirectError(response.status, response.headers.get("location")),
          durationMs: elapsed(),
          aborted: false,
        };
      } catch (error) {
        return {
          statusCode: null,
          error: timeout.aborted ? `no answer within ${deadlineMs} ms` : describeFailure(error),
          durationMs: elapsed(),
          aborted: signal?.aborted ?? false,
        };
      }
    },
    async close() {},
  };
}
