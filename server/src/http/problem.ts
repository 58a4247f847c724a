/**
 * The closed set of error codes, each with its one HTTP status (RFC 9457 problem details).
 * openapi.yaml lists the same set under `ErrorCode`; add a code in both places.
 */
export const errorCodes = {
  invalid_json: { status: 400, title: "Bad Request" },
  validation_failed: { status: 400, title: "Bad Request" },
  invalid_archive: { status: 400, title: "Bad Request" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  not_found: { status: 404, title: "Not Found" },
  method_not_allowed: { status: 405, title: "Method Not Allowed" },
  conflict: { status: 409, title: "Conflict" },
  job_not_continuable: { status: 409, title: "Conflict" },
  job_cleaned_up: { status: 409, title: "Conflict" },
  workspace_busy: { status: 409, title: "Conflict" },
  workspace_exists: { status: 409, title: "Conflict" },
  key_revoked: { status: 409, title: "Conflict" },
  idempotency_in_progress: { status: 409, title: "Conflict" },
  payload_too_large: { status: 413, title: "Payload Too Large" },
  unsupported_media_type: { status: 415, title: "Unsupported Media Type" },
  idempotency_key_reused: { status: 422, title: "Unprocessable Content" },
  rate_limited: { status: 429, title: "Too Many Requests" },
  test_mode_limit: { status: 429, title: "Too Many Requests" },
  internal_error: { status: 500, title: "Internal Server Error" },
  service_unavailable: { status: 503, title: "Service Unavailable" },
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** One problem found while validating a request (`errors[]` of a 400). */
export interface FieldError {
  location: "body" | "query" | "path" | "header";
  path: string;
  message: string;
}

/** Extra members of a problem body beyond the RFC 9457 core. */
export interface ProblemExtras {
  errors?: FieldError[];
  missing_permission?: string;
  allowed_methods?: string[];
}

/** An error that renders as an `application/problem+json` response. Throw it from anywhere in a request. */
export class ProblemError extends Error {
  readonly status: number;
  readonly title: string;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extras: ProblemExtras = {},
    headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "ProblemError";
    this.status = errorCodes[code].status;
    this.title = errorCodes[code].title;
    this.headers = headers;
  }
}

/** The problem+json body for an error, with the request id (never a stack trace). */
export function problemBody(error: ProblemError, requestId: string): Record<string, unknown> {
  return {
    type: `https://docs.knify.io/errors/${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    request_id: requestId,
    ...error.extras,
  };
}
