import { ProblemError } from "../http/problem.js";
import { parseTimestamp } from "../http/timestamp.js";
import type { JobRecord, JobSpec, JobStatus } from "../store/jobs-repo.js";

/** `completed` and `failed` end a turn: only those can be continued, and an event stream ends there. */
export const isFinished = (status: JobStatus): boolean => status === "completed" || status === "failed";

/**
 * The spec rules JSON Schema cannot say (the per-`job_type` ones are in the generated validator):
 * `time_range.from` must not be after `time_range.to`.
 */
export function checkSpecRules(spec: JobSpec): void {
  const range = spec.time_range;
  if (range && parseTimestamp(range.from, "/spec/time_range/from") > parseTimestamp(range.to, "/spec/time_range/to")) {
    throw new ProblemError(
      "validation_failed",
      `The request has 1 problem: body /spec/time_range/from (${range.from}) is after to (${range.to}); swap them or fix the range.`,
      { errors: [{ location: "body", path: "/spec/time_range/from", message: "must not be after time_range.to" }] },
    );
  }
}

/**
 * Why a job cannot be continued now, as a 409; null when it can. A cleaned-up job is a 409 too (Knify's docs
 * answer a continue the job's state forbids with "409 with a clear message"): the job exists, its state forbids the turn. `job_cleaned_up` (410) is for
 * reading a sandbox that is gone.
 */
export function continueConflict(job: JobRecord): ProblemError | null {
  if (job.cleanedUpAt !== null) {
    return new ProblemError(
      "job_not_continuable",
      `Job ${job.id} was cleaned up at ${new Date(job.cleanedUpAt).toISOString()}; its sandbox is gone, so it cannot be continued. Create a new job instead.`,
    );
  }
  if (!isFinished(job.status)) {
    return new ProblemError(
      "job_not_continuable",
      `Job ${job.id} is ${job.status}; only a completed or failed job can be continued. Wait until its turn ends (follow GET /jobs/${job.id}/events) and retry.`,
    );
  }
  return null;
}

/**
 * Whether a job's sandbox starts as a copy of its workspace's files. A test-mode turn runs in the simulator,
 * which reads no files, so it gets an empty sandbox (issue 15: test keys' jobs copied a 500 MiB workspace
 * each) unless the job asks for the copy with `metadata.simulate_sandbox: "copy"`.
 */
export function copiesWorkspace(job: Pick<JobRecord, "spec" | "testMode">): boolean {
  return !job.testMode || job.spec.metadata?.simulate_sandbox === "copy";
}

/**
 * `spec.session_id` names a session no job visible to the key carries: the same 404 for another tenant's
 * session as for an unknown one (issue 15, item 11).
 */
export function unknownSession(sessionId: string): ProblemError {
  return new ProblemError(
    "not_found",
    `No job visible to this key carries the session ${sessionId}. Name a session from a job's cursor_session_id, or leave spec.session_id out to start a new session.`,
  );
}
