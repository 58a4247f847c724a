import { Router } from "@koa/router";
import Koa from "koa";
import type { Clock } from "./clock.js";
import type { ServerConfig } from "./config.js";
import { operations } from "./generated/operations.js";
import { clientAddress } from "./http/forwarded.js";
import type { Handlers } from "./http/operation.js";
import { operationMiddleware } from "./http/pipeline.js";
import { ProblemError, problemBody } from "./http/problem.js";
import { requestIdFrom } from "./http/request-id.js";
import type { Logger } from "./logger.js";
import type { Store } from "./store/store.js";

/** What the app needs; every side effect is injected (tests pass a :memory: store and a manual clock). */
export interface AppDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  config: ServerConfig;
  handlers: Handlers;
}

/**
 * Builds the Koa app: request id and logging → problem+json errors → the routes of every operation in
 * the spec → JSON 404/405 for everything else.
 * @example const app = createApp({ store, clock: systemClock, logger, config, handlers: buildHandlers(services) });
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  // KNIFY_TRUST_PROXY=1: scheme, host and client address come from the proxy's headers (issue 8, item 6).
  app.proxy = deps.config.trustProxy;
  // Koa would otherwise print errors itself; ours are logged once, with the request id.
  app.silent = true;

  const router = new Router();
  for (const op of operations) {
    const handler = deps.handlers[op.operationId];
    if (!handler) throw new Error(`no handler for operation ${op.operationId} (openapi.yaml declares it)`);
    router.register(op.koaPath, [op.method], operationMiddleware(op, handler, deps), { name: op.operationId });
  }

  app.use(async function requestContext(ctx, next) {
    const started = performance.now();
    // Read now: once a refused body is torn down, the request may no longer have its socket.
    const client = clientAddress(ctx);
    const requestId = requestIdFrom(ctx.get("x-request-id") || undefined);
    ctx.state.requestId = requestId;
    ctx.state.publicUrl = deps.config.publicUrl;
    ctx.set("X-Request-Id", requestId);
    // Every body is JSON, problem+json or an event stream: no client may sniff it into something it runs.
    ctx.set("X-Content-Type-Options", "nosniff");
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw notFoundOrNotAllowed(router, ctx.path, ctx.method);
    } catch (error) {
      const problem = toProblem(error, deps.logger, requestId);
      for (const [name, value] of Object.entries(problem.headers)) ctx.set(name, value);
      ctx.status = problem.status;
      ctx.type = "application/problem+json";
      ctx.body = JSON.stringify(problemBody(problem, requestId));
    } finally {
      // Answered before the body was read (401, 404, 408, …): close, or Node would keep the connection
      // open to drain a body the client may trickle for the whole request timeout.
      if (!ctx.req.complete) ctx.set("Connection", "close");
      // Method, path, status and timing only: never headers or bodies, which carry keys and secrets.
      deps.logger.info(
        {
          request_id: requestId,
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          key_id: ctx.state.keyId,
          client,
          ms: Math.round((performance.now() - started) * 10) / 10,
        },
        "request",
      );
    }
  });
  app.use(router.routes());
  return app;
}

/**
 * The 404/405 problem of a request no operation took. Neither echoes the raw path, which the client chose
 * (and a log viewer or a page showing the error might render): a 405 names the route template instead.
 */
function notFoundOrNotAllowed(router: Router, path: string, method: string): ProblemError {
  const layers = router.match(path, method).path;
  const allowed = [...new Set(layers.flatMap((layer) => layer.methods))];
  if (allowed.length === 0) {
    return new ProblemError(
      "not_found",
      "There is no such path in the Knify API. Check the path and the base URL against the API reference.",
    );
  }
  const route = layers[0]?.path;
  const template = typeof route === "string" ? route.replace(/:(\w+)/g, "{$1}") : "this path";
  return new ProblemError(
    "method_not_allowed",
    `${method} is not allowed on ${template}; use ${allowed.join(", ")}.`,
    { allowed_methods: allowed },
    { Allow: allowed.join(", ") },
  );
}

function toProblem(error: unknown, logger: Logger, requestId: string): ProblemError {
  if (error instanceof ProblemError) return error;
  const status = (error as { status?: number }).status;
  // Koa and Node raise these for malformed requests (bad URI encoding, aborted bodies).
  if (status === 400)
    return new ProblemError("validation_failed", "The request could not be read; check its URL and body.");
  if (status === 413) return new ProblemError("payload_too_large", "The body is too large.");
  logger.error({ request_id: requestId, err: error }, "unhandled error");
  return new ProblemError(
    "internal_error",
    `Something went wrong on our side. Quote request id ${requestId} when you report it.`,
  );
}
