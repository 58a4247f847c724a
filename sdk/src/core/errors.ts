import type { components } from "../generated/schema.js";
import { KnifyError } from "./knify-error.js";

/** An RFC 9457 problem body as Knify sends it (`application/problem+json`). */
export type Problem = components["schemas"]["Problem"];
/** One entry of a 400's `errors`. */
export type FieldError = components["schemas"]["FieldError"];
type Job = components["schemas"]["Job"];
type JobError = components["schemas"]["JobError"];

/**
 * The server answered with an error status. `status`, `code`, `requestId` and `headers` are always
 * kept; `problem` is the parsed body when it was a problem document. Quote `requestId` to support.
 */
export class APIError extends KnifyError {
  override name = "APIError";
  /** The HTTP status. */
  readonly status: number;
  /** The stable machine code (e.g. `validation_failed`); `undefined` when the body was not a problem document. */
  readonly code: string | undefined;
  /** The request id from the body or the `X-Request-Id` header. */
  readonly requestId: string | undefined;
  /** The response headers. */
  readonly headers: Headers;
  /** The problem body, when there was one. */
  readonly problem: Problem | undefined;
  /** For a 400, every problem the server found; otherwise empty. */
  readonly errors: readonly FieldError[];

  constructor(status: number, problem: Problem | undefined, headers: Headers, message: string) {
    super(message);
    this.status = status;
    this.problem = problem;
    this.headers = headers;
    this.code = problem?.code;
    this.requestId = problem?.request_id ?? headers.get("x-request-id") ?? undefined;
    this.errors = problem?.errors ?? [];
  }

  /**
   * The one factory from a status to an error class. `body` is the parsed response body: a problem
   * document, other JSON, or text.
   *
   * @example
   * throw APIError.from(response.status, await response.json(), response.headers);
   */
  static from(status: number, body: unknown, headers: Headers): APIError {
    const problem = isProblem(body) ? body : undefined;
    const message = describe(status, problem, body, headers);
    const ErrorClass = errorClassFor(status);
    return new ErrorClass(status, problem, headers, message);
  }
}

/** 400: the request is malformed or breaks the schema; see `errors`. */
export class BadRequestError extends APIError {
  override name = "BadRequestError";
}

/** 401: the key is missing, malformed, unknown, revoked or expired. */
export class AuthenticationError extends APIError {
  override name = "AuthenticationError";
}

/** 403: the key lacks a permission, named in `missingPermission`. */
export class PermissionDeniedError extends APIError {
  override name = "PermissionDeniedError";
  /** The permission the operation needs, e.g. `jobs:create`. */
  readonly missingPermission: string | undefined;

  constructor(status: number, problem: Problem | undefined, headers: Headers, message: string) {
    super(status, problem, headers, message);
    this.missingPermission = problem?.missing_permission;
  }
}

/** 404: no such object, or it is in a workspace the key cannot see. */
export class NotFoundError extends APIError {
  override name = "NotFoundError";
}

/** 409: the object's state does not allow this (e.g. continuing a running job). */
export class ConflictError extends APIError {
  override name = "ConflictError";
}

/** 422: e.g. an `Idempotency-Key` reused for a different request. */
export class UnprocessableEntityError extends APIError {
  override name = "UnprocessableEntityError";
}

/** 429: the key's rate limit (or the test-mode job cap) is used up. */
export class RateLimitError extends APIError {
  override name = "RateLimitError";
  /** Seconds to wait, from `Retry-After`. */
  readonly retryAfter: number | undefined;
  /** When the full limit is available again, from `X-RateLimit-Reset`. */
  readonly resetAt: Date | undefined;

  constructor(status: number, problem: Problem | undefined, headers: Headers, message: string) {
    super(status, problem, headers, message);
    this.retryAfter = nonNegativeNumber(headers.get("retry-after"));
    const reset = nonNegativeNumber(headers.get("x-ratelimit-reset"));
    this.resetAt = reset === undefined ? undefined : new Date(reset * 1000);
  }
}

/** 5xx: the server failed; the SDK already retried it. */
export class InternalServerError extends APIError {
  override name = "InternalServerError";
}

/** No response arrived: DNS, refused or reset connection, TLS. The SDK already retried it. */
export class APIConnectionError extends KnifyError {
  override name = "APIConnectionError";

  constructor(message = "Could not reach the Knify API; check the network and baseURL.", options?: ErrorOptions) {
    super(message, options);
  }
}

/** An attempt took longer than `timeout`, or the call passed its `deadline`. */
export class APITimeoutError extends APIConnectionError {
  override name = "APITimeoutError";

  constructor(message = "The request timed out.", options?: ErrorOptions) {
    super(message, options);
  }
}

/** The caller aborted the call through its `signal`. */
export class APIUserAbortError extends KnifyError {
  override name = "APIUserAbortError";

  constructor(message = "The request was aborted.", options?: ErrorOptions) {
    super(message, options);
  }
}

/** 410: the object is gone for good (e.g. `job_cleaned_up`: the job's sandbox was deleted). */
export class GoneError extends APIError {
  override name = "GoneError";
}

/** `jobs.waitFor` saw the job end in `failed`; `job` is its final state and `error` why it failed. */
export class JobFailedError extends KnifyError {
  override name = "JobFailedError";
  /** The failed job. */
  readonly job: Job;
  /** The job's `error`: a machine `code` (`cancelled`, `timed_out`, …) and a `message`. */
  readonly error: JobError | undefined;

  constructor(job: Job) {
    super(
      `Job ${job.id} failed: ${job.error ? `${job.error.message} (${job.error.code})` : "the server gave no reason"}.`,
    );
    this.job = job;
    this.error = job.error;
  }
}

type APIErrorClass = new (status: number, problem: Problem | undefined, headers: Headers, message: string) => APIError;

function errorClassFor(status: number): APIErrorClass {
  if (status === 400) return BadRequestError;
  if (status === 401) return AuthenticationError;
  if (status === 403) return PermissionDeniedError;
  if (status === 404) return NotFoundError;
  if (status === 409) return ConflictError;
  if (status === 410) return GoneError;
  if (status === 422) return UnprocessableEntityError;
  if (status === 429) return RateLimitError;
  if (status >= 500) return InternalServerError;
  return APIError;
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== "object" || body === null) return false;
  const { code, detail } = body as Record<string, unknown>;
  return typeof code === "string" && typeof detail === "string";
}

/** `404 not_found: No job … is visible to this key. (request req_…)`: the server's own words, never the key. */
function describe(status: number, problem: Problem | undefined, body: unknown, headers: Headers): string {
  const requestId = problem?.request_id ?? headers.get("x-request-id");
  const suffix = requestId ? ` (request ${requestId})` : "";
  if (problem) return `${status} ${problem.code}: ${problem.detail}${suffix}`;
  // Not a problem document: a proxy or load balancer answered. Show a bounded excerpt of what it said.
  const text = typeof body === "string" ? body.trim() : body === undefined ? "" : JSON.stringify(body);
  const excerpt = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return `${status} ${excerpt || "the server sent no error details"}${suffix}`;
}

function nonNegativeNumber(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}
