import { ProblemError } from "../../../server/src/http/problem.js";
import { errorStatus } from "../generated/error-codes.js";
import type { components } from "../generated/schema.js";
import type { FieldError } from "./validate.js";

/** An RFC 9457 problem body as the spec defines it. */
export type Problem = components["schemas"]["Problem"];

/** The closed set of error codes this version of the spec uses, with their statuses (generated from `ErrorCode`). */
export const ERROR_STATUS = errorStatus;

/** A machine error code of the spec. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Extra members a problem may carry (`errors`, `missing_permission`, `allowed_methods`). */
export type ProblemExtras = Pick<Problem, "errors" | "missing_permission" | "allowed_methods" | "resource_id">;

// One error class and one problem renderer for the server and the mock: a rule the mock shares with the
// server (key grants, scope) throws the server's ProblemError, and the mock renders it the server's way.
export { ProblemError, problemBody } from "../../../server/src/http/problem.js";

/** A 400 `validation_failed` listing every problem, with a detail that names them. */
export function validationProblem(errors: FieldError[]): ProblemError {
  const count = `${errors.length} problem${errors.length === 1 ? "" : "s"}`;
  const listed = errors.map((e) => `${e.location} ${e.path || "/"} ${e.message}`).join("; ");
  return new ProblemError(
    "validation_failed",
    `The request has ${count}: ${listed}. Fix the request to match the API reference.`,
    { errors },
  );
}

/** A 404 that does not tell whether the object exists in another workspace. */
export function notFound(kind: string, id: string): ProblemError {
  return new ProblemError("not_found", `No ${kind} ${id} is visible to this key.`);
}
