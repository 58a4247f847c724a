import type { Clock } from "../clock.js";
import { memoFrozen } from "../frozen.js";
import type { Operation } from "../generated/operations.js";
import type { KeyRecord, Store } from "../store/store.js";
import { admit } from "./admit.js";
import { isReplay, withIdempotency } from "./idempotency.js";
import type { Handler, RequestInput } from "./operation.js";
import { type BodyLimits, inputReader } from "./read-input.js";
import { type CoreRequest, type CoreResponse, headerOf } from "./request.js";

/** What the pipeline needs besides the operation and its handler. */
export interface PipelineDeps {
  store: Store;
  clock: Clock;
  config: BodyLimits & {
    replicaId: string;
    uploadTimeoutMs: number;
    idempotencyTtlMs: number;
    publicUrl: string | null;
  };
}

/** One request on its way through the pipeline; `responseHeaders` collects headers every answer carries. */
export interface PipelineRequest {
  request: CoreRequest;
  params: Record<string, string>;
  requestId: string;
  responseHeaders: Record<string, string>;
  /** Set once the key is known, for the request log. */
  onKey(keyId: string): void;
}

export const JSON_TYPE = "application/json; charset=utf-8";

/**
 * The one path every operation takes, in this order: authenticate (401) → rate limit (429) →
 * authorize from the spec's permission (403) → validate params, query, headers and body (400/413/415)
 * → idempotency replay → handler. Authorization runs before validation so that a key without the
 * permission learns nothing about the operation's input rules. Problems are thrown (`ProblemError`) and
 * rendered by the core.
 */
export function operationPipeline(op: Operation, handler: Handler, deps: PipelineDeps) {
  const readInput = inputReader(op);

  return async function runOperation(run: PipelineRequest): Promise<Omit<CoreResponse, "log">> {
    const { request, responseHeaders } = run;
    const now = deps.clock.now();
    let key: KeyRecord | null = null;
    if (op.auth) {
      key = await admit(op, request, run.params, deps.store, now, responseHeaders);
      run.onKey(key.id);
    }
    const valid = await readInput(request, run.params, deps.config);
    const input: RequestInput = {
      params: valid.params,
      query: valid.query,
      headers: valid.headers,
      body: valid.body,
      key,
      requestId: run.requestId,
      now,
      linkBase: deps.config.publicUrl ?? request.forwardedOrigin ?? "",
      request,
    };
    const idempotencyKey = op.method === "POST" && key ? headerOf(request, "idempotency-key") : "";
    const result = idempotencyKey
      ? await withIdempotency(
          deps,
          op,
          { keyId: key?.id ?? "", idempotencyKey, method: op.method, path: request.path, raw: valid.raw, now },
          () => handler(input),
        )
      : await handler(input);

    if (isReplay(result)) {
      return {
        status: result.status,
        headers: { ...responseHeaders, "Content-Type": jsonType(result.contentType), "Idempotent-Replayed": "true" },
        body: result.body,
      };
    }
    const headers = { ...responseHeaders };
    // A secret must not be kept by any cache between us and the client (RFC 9111 §5.2.2.5).
    if (op.secretFields.length > 0) headers["Cache-Control"] = "no-store";
    Object.assign(headers, result.headers);
    if (result.stream) return { status: result.status ?? 200, headers, body: result.stream };
    if (result.body === undefined) return { status: result.status ?? 204, headers, body: null };
    headers["Content-Type"] = JSON_TYPE;
    return { status: result.status ?? 200, headers, body: json(result.body) };
  };
}

/** A body as JSON text; a frozen one (a cached job, presented once) is serialised once (`memoFrozen`). */
const jsonOfFrozen = memoFrozen((body: object) => JSON.stringify(body));
function json(body: unknown): string {
  return body !== null && typeof body === "object" ? jsonOfFrozen(body) : JSON.stringify(body);
}

/** A stored response's type as it was sent the first time (JSON gets its charset, as Koa sent it). */
function jsonType(contentType: string): string {
  return contentType === "application/json" ? JSON_TYPE : contentType;
}
