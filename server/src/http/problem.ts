import { type ErrorCode, errorStatus, statusTitle } from "../generated/error-codes.js";

export type { ErrorCode };

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
  resource_id?: string;
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
    // The code -> status table is generated from the spec (ErrorCode's x-knify-error-codes).
    this.status = errorStatus[code];
    this.title = statusTitle[this.status] ?? "Error";
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
