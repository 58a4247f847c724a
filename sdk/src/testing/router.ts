import { HttpResponse } from "msw";
import type { MockRequest, MockResult, OperationHandlers } from "./context.js";
import { newId } from "./ids.js";
import { readInput } from "./input.js";
import { ProblemError, problemBody } from "./problem.js";
import type { KeyRecord } from "./records.js";
import type { SpecOperation } from "./spec.js";
import type { MockState } from "./state.js";
import type { RequestValidators, ResponseValidator } from "./validate.js";

/** Everything the router needs; built once per mock by `createKnifyMock`. */
export interface RouterDeps {
  operations: readonly SpecOperation[];
  state: MockState;
  handlers: OperationHandlers;
  validators: RequestValidators;
  validateResponse: ResponseValidator;
  /** Receives every response the spec does not allow, before the router throws. */
  onViolation(message: string): void;
}

/** Handles one intercepted request: `template` is the spec path it matched, or null for an unknown path. */
export type Route = (request: Request, template: string | null, rawParams: Record<string, string>) => Promise<Response>;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Thrown when the mock is about to answer something the spec does not allow: a bug in the mock. */
export class MockSpecViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MockSpecViolation";
  }
}

/** The key in `Authorization: Bearer <key>`, if the header has that shape. */
const bearerToken = (request: Request): string | undefined =>
  /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1];

function authenticate(state: MockState, request: Request): KeyRecord {
  const header = request.headers.get("authorization");
  const token = bearerToken(request);
  const rec = token === undefined ? undefined : state.authenticate(token);
  if (rec) return rec;
  const challenge = header === null ? 'Bearer realm="knify"' : 'Bearer realm="knify", error="invalid_token"';
  const detail =
    header === null
      ? "The request has no API key. Send it as `Authorization: Bearer knify_live_…`."
      : "The API key is invalid, revoked or expired. Check the Authorization header, or verify the key with GET /keys/verify.";
  throw new ProblemError("unauthorized", detail, {}, { "WWW-Authenticate": challenge });
}

function authorize(op: SpecOperation, rec: KeyRecord, rawParams: Record<string, string>, rotatedOut: boolean): void {
  const { permission } = op;
  if (permission === null) return;
  // x-knify-self-access: a key may always read its own record and usage.
  const own = op.selfAccess && rawParams.key_id === rec.key.key_id;
  if (rotatedOut && permission === "admin:all" && !own) {
    // The spec's "Key administration": a secret in its grace period makes ordinary calls only.
    throw new ProblemError(
      "forbidden",
      "This secret was rotated out and only works for ordinary calls until its grace period ends; key administration needs the key's current secret.",
      { missing_permission: permission },
    );
  }
  const granted = rec.key.permissions;
  if (granted.includes("admin:all") || granted.includes(permission as never)) return;
  if (own) return;
  throw new ProblemError(
    "forbidden",
    `This operation needs the permission ${permission}, which the key does not have. Ask an administrator for a key with it.`,
    { missing_permission: permission },
  );
}

function rateLimitHeaders(state: MockState, rec: KeyRecord): Record<string, string> {
  // The mock never limits; it reports a full bucket minus this request, as a fresh key would see.
  const limit = rec.key.rate_limit;
  const reset = Math.ceil(state.now().getTime() / 1000 + 60 / limit);
  return {
    "X-RateLimit-Limit": String(limit),
    "X-RateLimit-Remaining": String(Math.max(0, limit - 1)),
    "X-RateLimit-Reset": String(reset),
  };
}

function toResponse(result: MockResult, headers: Record<string, string>): Response {
  const all = { ...headers, ...result.headers };
  if (result.stream) {
    return new HttpResponse(result.stream, {
      status: result.status,
      headers: { ...all, "Content-Type": result.contentType ?? "text/event-stream" },
    });
  }
  if (result.body === undefined) return new HttpResponse(null, { status: result.status, headers: all });
  const contentType = result.contentType ?? "application/json";
  return new HttpResponse(JSON.stringify(result.body), {
    status: result.status,
    headers: { ...all, "Content-Type": contentType },
  });
}

function problemResult(error: ProblemError, requestId: string): MockResult {
  return {
    status: error.status,
    body: problemBody(error, requestId),
    contentType: "application/problem+json",
    headers: error.headers,
  };
}

/**
 * The request pipeline: route → authenticate (401) → count usage → authorize (403) → validate (415/400) →
 * Idempotency-Key replay (422 on reuse) → handler → common headers → check the response against the spec.
 */
export function createRouter(deps: RouterDeps): Route {
  const { state, operations } = deps;
  const byPath = new Map<string, SpecOperation[]>();
  for (const op of operations) byPath.set(op.path, [...(byPath.get(op.path) ?? []), op]);

  const run = async (
    request: Request,
    url: URL,
    requestId: string,
    template: string | null,
    rawParams: Record<string, string>,
    caller: { key: KeyRecord | null },
  ): Promise<MockResult> => {
    const candidates = template === null ? [] : (byPath.get(template) ?? []);
    if (candidates.length === 0) {
      throw new ProblemError(
        "not_found",
        "There is no such path in the Knify API. Check the path and the base URL against the API reference.",
      );
    }
    const op = candidates.find((o) => o.method === request.method);
    if (!op) {
      const allowed = candidates.map((o) => o.method);
      throw new ProblemError(
        "method_not_allowed",
        `${template} does not take ${request.method}; it takes ${allowed.join(", ")}.`,
        { allowed_methods: allowed },
        { Allow: allowed.join(", ") },
      );
    }
    if (op.auth) {
      caller.key = authenticate(state, request);
      // Every authenticated request counts, whatever its outcome (see "Usage accounting" in the spec).
      state.recordUsage(caller.key);
      authorize(op, caller.key, rawParams, state.isRotatedOut(bearerToken(request) ?? ""));
    }
    state.advanceJobs();
    const input = await readInput(op, request, url, rawParams, deps.validators);
    const idempotencyKey = op.method === "POST" ? input.headers["idempotency-key"] : undefined;
    const slot = typeof idempotencyKey === "string" && caller.key ? `${caller.key.key.key_id} ${idempotencyKey}` : null;
    const fingerprint = `${op.method} ${url.pathname}${url.search} ${input.fingerprint}`;
    const now = state.now().getTime();
    const remembered = slot === null ? undefined : state.idempotency.get(slot);
    if (remembered && now - remembered.at < IDEMPOTENCY_WINDOW_MS) {
      if (remembered.fingerprint !== fingerprint) {
        throw new ProblemError(
          "idempotency_key_reused",
          "This Idempotency-Key was used for a different request; use a new key for a new request.",
        );
      }
      // Secrets are shown once: the response was remembered without them, and is not replayed (as the server).
      if (op.secretFields.length > 0 && remembered.status < 300)
        throw secretAlreadyShown(op.secretFields, remembered.body);
      const replay: MockResult = {
        status: remembered.status,
        body: structuredClone(remembered.body),
        headers: { "Idempotent-Replayed": "true" },
      };
      if (remembered.contentType !== null) replay.contentType = remembered.contentType;
      return replay;
    }
    const handler = deps.handlers[op.operationId];
    if (!handler) throw new Error(`the Knify mock has no handler for ${op.operationId}`);
    const req: MockRequest = { op, raw: request, url, ...input, key: caller.key };
    let result: MockResult;
    try {
      result = await handler(req, state);
    } catch (error) {
      // As the server: an error is never remembered, so a retry with the same key runs again.
      if (!(error instanceof ProblemError)) throw error;
      return problemResult(error, requestId);
    }
    if (slot !== null && !result.stream) {
      state.idempotency.set(slot, {
        fingerprint,
        at: now,
        status: result.status,
        body: withoutSecrets(structuredClone(result.body), op.secretFields),
        contentType: result.contentType ?? null,
      });
    }
    return result;
  };

  return async (request, template, rawParams) => {
    const url = new URL(request.url);
    const given = request.headers.get("x-request-id");
    const requestId = given !== null && REQUEST_ID.test(given) ? given : newId("req");
    const caller: { key: KeyRecord | null } = { key: null };
    let result: MockResult;
    try {
      result = await run(request, url, requestId, template, rawParams, caller);
    } catch (error) {
      if (!(error instanceof ProblemError)) throw error;
      result = problemResult(error, requestId);
    }
    const op = operations.find((o) => o.path === template && o.method === request.method);
    if (op) {
      // Streams are checked for their status and media type only (the schema is `type: string`).
      const body = result.stream ? "" : result.body;
      const contentType = result.stream
        ? (result.contentType ?? "text/event-stream")
        : result.body === undefined
          ? undefined
          : (result.contentType ?? "application/json");
      const problems = deps.validateResponse(op.operationId, result.status, body, contentType);
      if (problems.length > 0) {
        const message = `Knify mock answered ${request.method} ${url.pathname} with a response the spec does not allow:\n  ${problems.join("\n  ")}`;
        deps.onViolation(message);
        throw new MockSpecViolation(message);
      }
    }
    const headers: Record<string, string> = { "X-Request-Id": requestId, "X-Content-Type-Options": "nosniff" };
    if (op?.secretFields.length && result.status < 300) headers["Cache-Control"] = "no-store";
    if (caller.key) Object.assign(headers, rateLimitHeaders(state, caller.key));
    return toResponse(result, headers);
  };
}

function withoutSecrets(body: unknown, fields: readonly string[]): unknown {
  if (fields.length === 0 || typeof body !== "object" || body === null) return body;
  return Object.fromEntries(Object.entries(body).filter(([name]) => !fields.includes(name)));
}

function secretAlreadyShown(fields: readonly string[], body: unknown): ProblemError {
  const stored = (typeof body === "object" && body !== null ? body : {}) as { key_id?: unknown; id?: unknown };
  const id = typeof stored.key_id === "string" ? stored.key_id : typeof stored.id === "string" ? stored.id : "";
  return new ProblemError(
    "secret_already_shown",
    `The first request with this Idempotency-Key succeeded, and its ${fields.join(", ")} was shown then; secrets are shown once and never stored, so it cannot be replayed.`,
    id ? { resource_id: id } : {},
    { "Idempotent-Replayed": "true" },
  );
}
