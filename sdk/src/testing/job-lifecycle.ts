import { wantsSimulatedFailure } from "../../../server/src/jobs/simulated-runner.js";
import { newId } from "./ids.js";
import type { JobError, JobEvent, JobRecord, JobStatus, WebhookEventType } from "./records.js";

/** What the lifecycle needs from the mock: its clock, the simulated duration and the webhook emitter. */
export interface LifecycleContext {
  now(): Date;
  jobDurationMs: number;
  emit(workspaceId: string | null, type: WebhookEventType, data: unknown): void;
  /** The archive a job's first sandbox is made from (its workspace's upload), or null for an empty one. */
  sandboxSource(rec: JobRecord): Uint8Array | null;
}

/** The message of a turn that failed because its metadata asked for it. */
export const MOCK_FAIL_ERROR: JobError = {
  code: "agent_failed",
  message: "agent exited with code 1: metadata.mock_fail asked the mock to fail this turn",
};

/** `completed` and `failed` end a turn; only those can be continued. */
export const isFinished = (status: JobStatus): boolean => status === "completed" || status === "failed";

/**
 * Whether a turn fails: the server simulator's own rule (`[simulate:fail]` in the prompt or
 * `metadata.simulate: "fail"`, server/src/jobs/simulated-runner.ts), or the mock's older `mock_fail: true`.
 */
export const wantsFailure = (spec: { prompt?: string | undefined; metadata?: unknown }): boolean => {
  const metadata = typeof spec.metadata === "object" && spec.metadata !== null ? spec.metadata : {};
  return (
    wantsSimulatedFailure({ prompt: spec.prompt, metadata }) || ("mock_fail" in metadata && metadata.mock_fail === true)
  );
};

/**
 * Whether `metadata` asks the turn to keep running until it is cancelled or cleaned up: `simulate: "hold"`,
 * the same hook as the reference server's simulated runner.
 */
export const wantsHold = (metadata: unknown): boolean =>
  typeof metadata === "object" && metadata !== null && (metadata as Record<string, unknown>).simulate === "hold";

function addEvent(rec: JobRecord, type: JobEvent["type"], data: Record<string, unknown>, at: Date): void {
  rec.events.push({ seq: rec.events.length + 1, job_id: rec.job.id, type, created_at: at.toISOString(), data });
}

function statusEvent(rec: JobRecord, at: Date): void {
  const { status, error } = rec.job;
  addEvent(rec, "status", error === undefined ? { status } : { status, error }, at);
}

/** Opens a turn: the job is `pending` (its sandbox being provisioned). */
export function startTurn(
  rec: JobRecord,
  prompt: string | null,
  fail: boolean,
  ctx: LifecycleContext,
  hold = false,
): void {
  const now = ctx.now();
  Object.assign(rec.job, { status: "pending", started_at: null, completed_at: null });
  delete rec.job.error;
  rec.manual = false;
  rec.failTurn = fail;
  rec.holdTurn = hold;
  statusEvent(rec, now);
  addEvent(rec, "turn", { turn: rec.job.turns, prompt }, now);
}

function provision(rec: JobRecord, now: Date, ctx: LifecycleContext): void {
  const { job } = rec;
  job.started_at = now.toISOString();
  if (job.cleaned_up_at === null && job.sandbox_id === null) {
    job.sandbox_id = newId("sbx");
    rec.sandbox = ctx.sandboxSource(rec);
  }
  job.session_id ??= job.spec.session_id ?? newId("ses");
  // As the server: only a Cursor-run job type's session is a `cursor_session_id`.
  const cursor = job.spec.job_type !== "claude_task" && job.spec.job_type !== "gemini_task";
  job.cursor_session_id = cursor ? job.session_id : null;
}

function finishTurn(rec: JobRecord, status: "completed" | "failed", error: JobError | undefined, now: Date) {
  rec.job.status = status;
  rec.job.completed_at = now.toISOString();
  if (status === "failed") rec.job.error = error ?? { code: "agent_failed", message: "the turn failed" };
  else delete rec.job.error;
  statusEvent(rec, now);
}

/**
 * Moves a job along as mock time passes: `pending` becomes `running` on the first look after creation, and
 * `running` ends once `jobDurationMs` has passed since it started (so with 0 both happen on the next look).
 */
export function advanceJob(rec: JobRecord, ctx: LifecycleContext): void {
  if (rec.manual) return;
  const now = ctx.now();
  const { job } = rec;
  if (job.status === "pending") {
    job.status = "running";
    provision(rec, now, ctx);
    statusEvent(rec, now);
    addEvent(rec, "output", { stream: "stdout", line: `mock agent: starting turn ${job.turns}` }, now);
    ctx.emit(job.workspace_id, "job.running", structuredClone(job));
  }
  if (job.status !== "running" || job.started_at === null || rec.holdTurn) return;
  if (now.getTime() - Date.parse(job.started_at) < ctx.jobDurationMs) return;
  addEvent(rec, "output", { stream: "stdout", line: `mock agent: turn ${job.turns} done` }, now);
  finishTurn(rec, rec.failTurn ? "failed" : "completed", MOCK_FAIL_ERROR, now);
  ctx.emit(job.workspace_id, rec.failTurn ? "job.failed" : "job.completed", structuredClone(job));
}

/** Forces a status (for tests); the mock then leaves the job alone until it is continued. */
export function forceJobStatus(rec: JobRecord, status: JobStatus, error: JobError | undefined, ctx: LifecycleContext) {
  const now = ctx.now();
  rec.manual = true;
  if (status === "pending") {
    Object.assign(rec.job, { status, started_at: null, completed_at: null });
    delete rec.job.error;
    statusEvent(rec, now);
    return;
  }
  if (rec.job.started_at === null) provision(rec, now, ctx);
  if (status === "running") {
    Object.assign(rec.job, { status, completed_at: null });
    delete rec.job.error;
    statusEvent(rec, now);
    ctx.emit(rec.job.workspace_id, "job.running", structuredClone(rec.job));
    return;
  }
  finishTurn(rec, status === "failed" ? "failed" : "completed", error, now);
  ctx.emit(rec.job.workspace_id, status === "failed" ? "job.failed" : "job.completed", structuredClone(rec.job));
}

/** Deletes the sandbox; a job still pending or running fails with "cleaned up while running". */
export function cleanUpJob(rec: JobRecord, ctx: LifecycleContext): void {
  if (rec.job.cleaned_up_at !== null) return;
  const now = ctx.now();
  if (!isFinished(rec.job.status)) {
    finishTurn(rec, "failed", { code: "cleaned_up", message: "cleaned up while running" }, now);
    ctx.emit(rec.job.workspace_id, "job.failed", structuredClone(rec.job));
  }
  rec.manual = true;
  rec.job.cleaned_up_at = now.toISOString();
  rec.job.sandbox_id = null;
  rec.sandbox = null;
  addEvent(rec, "system", { message: "sandbox deleted" }, now);
  ctx.emit(rec.job.workspace_id, "job.cleaned_up", structuredClone(rec.job));
}

/**
 * Cancels a pending or running turn: the job fails with `error.code` `cancelled` and `job.failed` is sent;
 * the sandbox stays, so it can be continued. The caller checks that the job is pending or running.
 */
export function cancelJobTurn(rec: JobRecord, ctx: LifecycleContext): void {
  finishTurn(rec, "failed", { code: "cancelled", message: "cancelled by request" }, ctx.now());
  rec.manual = true;
  ctx.emit(rec.job.workspace_id, "job.failed", structuredClone(rec.job));
}
