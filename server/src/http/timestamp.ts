import { ProblemError } from "./problem.js";

/**
 * Epoch milliseconds of a `date-time` the validator accepted, or a 400. RFC 3339 allows a leap second
 * (`23:59:60`), which JSON Schema's `date-time` passes but `Date.parse` turns into NaN — and a NaN expiry
 * compared as "never expires" (issue 15, item 9). Refusing it is the one honest answer: JavaScript time has
 * no leap seconds, and rounding would move an expiry by a second the caller did not ask for.
 */
export function parseTimestamp(value: string, pointer: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    const message = "must be a time this server can represent (no leap second :60)";
    throw new ProblemError("validation_failed", `The request has 1 problem: body ${pointer} ${message}.`, {
      errors: [{ location: "body", path: pointer, message }],
    });
  }
  return ms;
}
