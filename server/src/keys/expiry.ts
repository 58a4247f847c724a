import { ProblemError } from "../http/problem.js";
import { parseTimestamp } from "../http/timestamp.js";

/** `expires_at` as epoch ms; a time that has passed is a 400, since the key would be dead on arrival. */
export function futureTime(value: string, now: number): number {
  const at = parseTimestamp(value, "/expires_at");
  if (at <= now) {
    throw new ProblemError("validation_failed", "expires_at is in the past; give a future time or leave it out.", {
      errors: [{ location: "body", path: "/expires_at", message: "must be in the future" }],
    });
  }
  return at;
}
