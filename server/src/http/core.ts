import type { Clock } from "../clock.js";
import { type Operation, operations } from "../generated/operations.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import type { Handler, Handlers } from "./operation.js";
import { operationPipeline, type PipelineDeps } from "./pipeline.js";
import { ProblemError, problemBody } from "./problem.js";
import { type CoreRequest, type CoreResponse, headerOf } from "./request.js";
import { requestIdFrom } from "./request-id.js";
import { createRouter } from "./router.js";

/** What the core needs; every side effect is injected. */
export interface CoreDeps {
  store: Store;
  clock: Clock;
  logger: Pick<Logger, "error">;
  config: PipelineDeps["config"];
  handlers: Handlers;
  /** The operations to serve (the spec's, from the generated table, unless a test narrows them). */
  operations?: readonly Operation[];
}

/** The framework-free API: a plain request in, a plain response out. */
export type Core = (request: CoreRequest) => Promise<CoreResponse>;

/**
 * The whole API as one function, for any adapter (Koa in the server, msw in `@knify/sdk/testing`):
 * request id → route from the spec's operations table (404/405) → the operation's pipeline → problem+json
 * for every error, with the request id and never a stack trace.
 * @example const core = createCore({ store, clock, logger, config, handlers }); const res = await core(request);
 */
export function createCore(deps: CoreDeps): Core {
  const table = deps.operations ?? operations;
  const router = createRouter(table);
  const pipelines = new Map(
    table.map((op) => {
      const handler = deps.handlers[op.operationId];
      if (!handler) throw new Error(`no handler for operation ${op.operationId} (openapi.yaml declares it)`);
      // The one place an input's type is asserted: the pipeline validates it against this operation first.
      return [op.operationId, operationPipeline(op, handler as Handler, deps)] as const;
    }),
  );

  return async function handle(request) {
    const requestId = requestIdFrom(headerOf(request, "x-request-id") || undefined);
    const log: CoreResponse["log"] = { requestId };
    // Every body is JSON, problem+json or a stream of its own type: no client may sniff it into something it runs.
    const responseHeaders: Record<string, string> = { "X-Request-Id": requestId, "X-Content-Type-Options": "nosniff" };
    try {
      const route = router.route(request.method, request.path);
      const run = pipelines.get(route.op.operationId);
      if (!run) throw new Error(`no pipeline for ${route.op.operationId}`);
      const response = await run({
        request,
        params: route.params,
        requestId,
        responseHeaders,
        onKey: (keyId) => {
          log.keyId = keyId;
        },
      });
      return { ...response, log };
    } catch (error) {
      const problem = toProblem(error, deps.logger, requestId);
      return {
        status: problem.status,
        headers: { ...responseHeaders, ...problem.headers, "Content-Type": "application/problem+json" },
        body: JSON.stringify(problemBody(problem, requestId)),
        log,
      };
    }
  };
}

function toProblem(error: unknown, logger: Pick<Logger, "error">, requestId: string): ProblemError {
  if (error instanceof ProblemError) return error;
  const status = (error as { status?: number }).status;
  // The adapter's framework raises these for malformed requests (bad URI encoding, aborted bodies).
  if (status === 400)
    return new ProblemError("validation_failed", "The request could not be read; check its URL and body.");
  if (status === 413) return new ProblemError("payload_too_large", "The body is too large.");
  logger.error({ request_id: requestId, err: error }, "unhandled error");
  return new ProblemError(
    "internal_error",
    `Something went wrong on our side. Quote request id ${requestId} when you report it.`,
  );
}
