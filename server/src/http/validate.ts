import type { ErrorObject, ValidateFunction } from "ajv";
import { type FieldError, ProblemError } from "./problem.js";

/**
 * One ajv error as the spec's `FieldError`: an unknown property is named in the path, an enum lists its
 * values, and a parameter is named without a leading slash. The server's and the mock's one rule.
 */
export function describe(error: ErrorObject, location: FieldError["location"]): FieldError {
  let path = error.instancePath || "/";
  let message = error.message ?? "is invalid";
  if (error.keyword === "additionalProperties") {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    path = `${error.instancePath}/${extra}`;
    message = "is not a known property";
  } else if (error.keyword === "enum") {
    message = `must be one of: ${(error.params as { allowedValues: unknown[] }).allowedValues.join(", ")}`;
  }
  if (location !== "body")
    path = path.replace(/^\//, "") || String((error.params as { missingProperty?: string }).missingProperty ?? "");
  return { location, path, message };
}

/** Runs a generated validator; collects every problem instead of stopping at the first. */
export function check(
  validate: ValidateFunction,
  data: unknown,
  location: FieldError["location"],
  into: FieldError[],
): void {
  if (validate(data)) return;
  for (const error of validate.errors ?? []) {
    // `if`/`then` failures repeat the real problem found in `then`; keep only that one.
    if (error.keyword === "if") continue;
    into.push(describe(error, location));
  }
}

/** Throws a 400 listing every problem, if there are any. */
export function throwIfInvalid(problems: FieldError[]): void {
  if (problems.length === 0) return;
  const summary = problems.map((p) => `${p.location} ${p.path} ${p.message}`).join("; ");
  throw new ProblemError(
    "validation_failed",
    `The request has ${problems.length} problem${problems.length === 1 ? "" : "s"}: ${summary}`,
    { errors: problems },
  );
}
