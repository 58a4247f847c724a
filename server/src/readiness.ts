import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "./logger.js";
import type { Store } from "./store/store.js";

/**
 * The load balancers' probe, outside the API (no key, not rate limited, not in the spec's operations):
 * 200 while this replica can serve, 503 once it is shutting down or its store cannot serve (database
 * unreachable, schema not migrated). `GET /` stays the cheap liveness answer that touches nothing.
 */
export const READY_PATH = "/healthz/ready";

/**
 * A request listener for {@link READY_PATH}; `stopping` turns it to 503 first thing in a graceful shutdown,
 * so a load balancer stops sending new requests while in-flight ones finish.
 * @example const ready = readinessProbe(store, () => stopping, logger);
 */
export function readinessProbe(
  store: Store,
  stopping: () => boolean,
  logger: Logger,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async function ready(_req, res) {
    let reason: string | null = stopping() ? "shutting down" : null;
    if (reason === null) {
      try {
        await store.ready();
      } catch (error) {
        // The details (hosts, versions) go to the log, not to an unauthenticated caller.
        logger.warn({ err: error }, "readiness check failed");
        reason = "the database is unreachable or not migrated";
      }
    }
    const body = JSON.stringify(reason === null ? { status: "ready" } : { status: "not_ready", reason });
    res.writeHead(reason === null ? 200 : 503, { "Content-Type": "application/json", "Cache-Control": "no-store" });
    res.end(body);
  };
}
