import type { Clock } from "../clock.js";
import { memoFrozen } from "../frozen.js";
import type { components } from "../generated/schema.js";
import { newId } from "../ids.js";
import type { JobEventRecord, JobRecord, JobWebhookFactory } from "../store/jobs-repo.js";
import { iso, isoOrNull } from "../timestamps.js";

type Schemas = components["schemas"];

/** Job types whose agent is Cursor's (issue 13): only their session is a `cursor_session_id`. */
const NOT_CURSOR: ReadonlySet<string> = new Set(["claude_task", "gemini_task"]);

/**
 * A job as the API shows it: `error` only when it failed (Knify's docs); `result` and `usage` when reported.
 * A frozen record (the serving store's job cache) is presented once, and the same frozen object given back.
 */
export const presentJob: (job: JobRecord) => Schemas["Job"] = memoFrozen((job: JobRecord): Schemas["Job"] => {
  return {
    id: job.id,
    workspace_id: job.workspaceId,
    spec: job.spec,
    status: job.status,
    created_at: iso(job.createdAt),
    started_at: isoOrNull(job.startedAt),
    completed_at: isoOrNull(job.completedAt),
    sandbox_id: job.sandboxId,
    cursor_session_id: NOT_CURSOR.has(job.spec.job_type) ? null : job.sessionId,
    session_id: job.sessionId,
    turns: job.turns,
    cleaned_up_at: isoOrNull(job.cleanedUpAt),
    ...(job.status === "failed" ? { error: job.error ?? { code: "agent_failed", message: "the turn failed" } } : {}),
    ...(job.result !== null ? { result: job.result } : {}),
    ...(job.usage !== null ? { usage: job.usage } : {}),
  };
});

/** One entry of a job's event log as the API shows it. */
export function presentEvent(event: JobEventRecord): Schemas["JobEventBase"] & { data: Record<string, unknown> } {
  return {
    seq: event.seq,
    job_id: event.jobId,
    type: event.type,
    created_at: iso(event.createdAt),
    data: event.data,
  };
}

/**
 * The webhook events of jobs: the job in its API shape, only for jobs of a workspace (endpoints are
 * registered per workspace, so a job without one has nobody to notify).
 */
export function jobWebhooks(clock: Clock): JobWebhookFactory {
  return (type, job) =>
    job.workspaceId === null
      ? null
      : { id: newId("evt"), type, workspaceId: job.workspaceId, createdAt: clock.now(), data: presentJob(job) };
}
