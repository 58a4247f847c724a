import { createHash } from "node:crypto";
import type { ValidateFunction } from "ajv";
import type { Middleware } from "koa";
import { authenticate } from "../auth/authenticate.js";
import { grants, type Permission } from "../auth/permissions.js";
import { refuseRotatedOutAdministration } from "../auth/rotated-out.js";
import type { Clock } from "../clock.js";
import type { ServerConfig } from "../config.js";
import * as bodyValidators from "../generated/body-validators.cjs";
import type { Operation } from "../generated/operations.js";
import * as paramValidators from "../generated/params-validators.cjs";
import type { Store } from "../store/store.js";
import { isJsonContentType, parseJson, readBody } from "./body.js";
import type { Handler, HandlerResult, RequestInput } from "./operation.js";
import { type FieldError, ProblemError } from "./problem.js";
import { setRateLimitHeaders } from "./rate-limit-headers.js";
import { check, throwIfInvalid } from "./validate.js";

const validators = { ...paramValidators, ...bodyValidators } as unknown as Record<string, ValidateFunction | undefined>;

export interface PipelineDeps {
  store: Store;
  clock: Clock;
  config: ServerConfig;
}

/**
 * The one path every operation takes, in this order: authenticate (401) → rate limit (429) →
 * authorize from the spec's permission (403) → validate params, query, headers and body (400/413/415)
 * → idempotency replay → handler. Authorization runs before validation so that a key without the
 * permission learns nothing about the operation's input rules.
 */
export function operationMiddleware(op: Operation, handler: Handler, deps: PipelineDeps): Middleware {
  const paramsValidator = validators[`${op.operationId}Params`];
  const queryValidator = validators[`${op.operationId}Query`];
  const headersValidator = validators[`${op.operationId}Headers`];
  const bodyValidator = validators[`${op.operationId}Body`];

  return async function handleOperation(ctx) {
    const now = deps.clock.now();
    const params = { ...(ctx as unknown as { params: Record<string, string> }).params };
    let key: RequestInput["key"] = null;
    if (op.auth) {
      const authenticated = await authenticate(
        ctx.get("authorization") || undefined,
        deps.store,
        now,
        countAuthorization(ctx),
      );
      key = authenticated;
      ctx.state.keyId = key.id;
      const admission = await deps.store.requests.admit(key.id, key.rateLimit, now);
      setRateLimitHeaders(ctx, admission);
      if (!admission.allowed) {
        const seconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
        throw new ProblemError(
          "rate_limited",
          `The key's limit of ${admission.limit} requests per minute is used up; retry in ${seconds} second${seconds === 1 ? "" : "s"}.`,
          {},
          { "Retry-After": String(seconds) },
        );
      }
      const own = op.selfAccess && params.key_id === key.id;
      if (op.permission && !own && !grants(key.permissions, op.permission as Permission)) {
        throw new ProblemError(
          "forbidden",
          `This operation needs the permission ${op.permission}, which the key does not have. Ask an administrator for a key with it.`,
          { missing_permission: op.permission },
        );
      }
      refuseRotatedOutAdministration(authenticated, op.permission, own);
    }

    const problems: FieldError[] = [];
    const query: Record<string, unknown> = { ...ctx.query };
    const headers: Record<string, unknown> = {};
    if (paramsValidator) check(paramsValidator, params, "path", problems);
    if (queryValidator) check(queryValidator, query, "query", problems);
    if (headersValidator) {
      for (const [name, value] of Object.entries(ctx.headers)) headers[name] = value;
      check(headersValidator, headers, "header", problems);
    }

    let body: unknown;
    let raw: Buffer | undefined;
    if (op.body === "json") {
      raw = await readBody(ctx.req, deps.config.bodyLimitBytes, deps.config.bodyTimeoutMs);
      if (raw.length === 0 && !op.bodyRequired) {
        body = {};
      } else {
        if (!isJsonContentType(ctx.get("content-type"))) {
          throw new ProblemError(
            "unsupported_media_type",
            "Send the body as JSON with Content-Type: application/json.",
          );
        }
        body = parseJson(raw);
      }
      if (bodyValidator) check(bodyValidator, body, "body", problems);
    }
    throwIfInvalid(problems);

    const input: RequestInput = { params, query, headers, body, key, requestId: ctx.state.requestId, now, ctx };
    const idempotencyKey = op.method === "POST" && key ? ctx.get("idempotency-key") : "";
    const result = idempotencyKey
      ? await withIdempotency(
          deps,
          op,
          key?.id ?? "",
          idempotencyKey,
          `${op.method} ${ctx.path}\n${raw?.toString("base64") ?? ""}`,
          now,
          () => handler(input),
          ctx,
        )
      : await handler(input);
    if (result) send(ctx, result, op);
  };
}

/** How many Authorization header lines the request has (Node keeps only the first of several). */
function countAuthorization(ctx: Parameters<Middleware>[0]): number {
  const raw = ctx.req.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === "authorization") count++;
  return count;
}

function send(ctx: Parameters<Middleware>[0], result: HandlerResult, op: Operation): void {
  if (result.streamed) return;
  // A secret must not be kept by any cache between us and the client (RFC 9111 §5.2.2.5).
  if (op.secretFields.length > 0) ctx.set("Cache-Control", "no-store");
  for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value);
  ctx.status = result.status ?? 200;
  if (result.body !== undefined) ctx.body = result.body;
}

/**
 * Replays the first response for a repeated Idempotency-Key (same key, method, path and body), refuses a
 * reused key for a different request, and releases the claim when the first attempt hit a server error.
 * The claim is leased to this replica and renewed while the handler runs, so a claim left by a crashed
 * process expires (or is released at this replica's next start) instead of blocking the key for 24 h.
 *
 * Secrets are never cached: fields the spec marks `x-knify-secret` are dropped before the response is
 * stored, and a replay of such a response answers 409 `secret_already_shown` with the object's id, so a
 * secret is shown exactly once and no copy of it rests in the database or its WAL (issue 15, item 1).
 */
async function withIdempotency(
  deps: PipelineDeps,
  op: Operation,
  keyId: string,
  idempotencyKey: string,
  request: string,
  now: number,
  run: () => Promise<HandlerResult>,
  ctx: Parameters<Middleware>[0],
): Promise<HandlerResult | null> {
  const fingerprint = createHash("sha256").update(request).digest("hex");
  const lease = { owner: deps.config.replicaId, leaseMs: deps.config.uploadTimeoutMs };
  const existing = await deps.store.idempotency.claim(
    keyId,
    idempotencyKey,
    fingerprint,
    now,
    deps.config.idempotencyTtlMs,
    lease,
  );
  if (existing) {
    if (existing.fingerprint !== fingerprint) {
      throw new ProblemError(
        "idempotency_key_reused",
        "This Idempotency-Key was already used for a different request (method, path or body differ). Use a new key for a new request.",
      );
    }
    if (!existing.response) {
      throw new ProblemError(
        "idempotency_in_progress",
        "A request with this Idempotency-Key is still being handled; retry shortly to get its result.",
      );
    }
    if (op.secretFields.length > 0) throw secretAlreadyShown(op, existing.response.body);
    ctx.status = existing.response.status;
    ctx.type = existing.response.contentType;
    ctx.set("Idempotent-Replayed", "true");
    ctx.body = existing.response.body;
    return null;
  }
  // Renewing at a third of the lease keeps a live claim from expiring even when one renewal is late.
  const renewal = setInterval(() => {
    deps.store.idempotency.renew(keyId, idempotencyKey, lease, deps.clock.now()).catch(() => undefined);
  }, lease.leaseMs / 3);
  renewal.unref();
  try {
    const result = await run();
    const status = result.status ?? 200;
    const body = result.body === undefined ? "" : JSON.stringify(withoutSecrets(result.body, op.secretFields));
    await deps.store.idempotency.complete(keyId, idempotencyKey, { status, body, contentType: "application/json" });
    return result;
  } catch (error) {
    // Only successful results are stored. An error releases the claim, so a retry runs again: a client
    // error repeats itself, and a server error gets a second chance.
    await deps.store.idempotency.release(keyId, idempotencyKey);
    throw error;
  } finally {
    clearInterval(renewal);
  }
}

function withoutSecrets(body: unknown, fields: readonly string[]): unknown {
  if (fields.length === 0 || typeof body !== "object" || body === null) return body;
  return Object.fromEntries(Object.entries(body).filter(([name]) => !fields.includes(name)));
}

function secretAlreadyShown(op: Operation, storedBody: string): ProblemError {
  let stored: { key_id?: unknown; id?: unknown } = {};
  try {
    stored = JSON.parse(storedBody) as typeof stored;
  } catch {
    // A stored body is always our own JSON; without it the answer just lacks the id.
  }
  const id = typeof stored.key_id === "string" ? stored.key_id : typeof stored.id === "string" ? stored.id : "";
  const next =
    op.operationId === "createWebhookEndpoint"
      ? `delete endpoint ${id} and register it again to get a new secret`
      : `rotate key ${id} (POST /keys/${id}/rotate) to get a new secret`;
  return new ProblemError(
    "secret_already_shown",
    `The first request with this Idempotency-Key succeeded, and its ${op.secretFields.join(", ")} was shown then; secrets are shown once and never stored, so it cannot be replayed. If it was lost, ${next}.`,
    id ? { resource_id: id } : {},
    { "Idempotent-Replayed": "true" },
  );
}
