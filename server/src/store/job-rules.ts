import type { DiskQuotaExceeded, JobError, JobSpec, JobStatus, NewJobEvent, TurnEnd } from "./jobs-repo.js";
import type { DiskUsage } from "./sandboxes-repo.js";

// The rules every store applies to the same job transitions (event-log entries, errors, the disk quota), written once.

/** A turn is over: the job may be continued (or cleaned up by the idle sweep). */
export const isFinished = (status: JobStatus): boolean => status === "completed" || status === "failed";

export function statusEvent(status: JobStatus, error: JobError | null): NewJobEvent {
  return { type: "status", data: error === null ? { status } : { status, error } };
}

export function turnEvent(turn: number, spec: JobSpec): NewJobEvent {
  return { type: "turn", data: { turn, prompt: spec.prompt ?? null } };
}

/** The error a turn ends with: the runner's, or a generic one for a failure that gave none. */
export function turnError(outcome: TurnEnd): JobError | null {
  return outcome.status === "failed" ? (outcome.error ?? { code: "agent_failed", message: "the turn failed" }) : null;
}

export const CLEANED_UP_ERROR: JobError = { code: "cleaned_up", message: "cleaned up while running" };
export const CANCELLED_ERROR: JobError = { code: "cancelled", message: "cancelled by request" };

/** The `system` event of a cleanup: by request, or by the idle sweep (`idleSince` given). */
export function cleanupEvent(idleSince: number | undefined): NewJobEvent {
  const message = idleSince === undefined ? "sandbox deleted" : "sandbox deleted: idle longer than its TTL";
  return { type: "system", data: { message } };
}

/** Whether the idle sweep may still clean this job up: finished at or before `idleSince`, not cleaned yet. */
export function stillIdle(
  job: { status: JobStatus; completedAt: number | null; cleanedUpAt: number | null },
  idleSince: number,
): boolean {
  return isFinished(job.status) && job.completedAt !== null && job.completedAt <= idleSince && job.cleanedUpAt === null;
}

/**
 * The bytes to reserve for a new job's sandbox, a copy of its workspace's files, or the refusal when the copy
 * does not fit in `quotaBytes` beside what the workspace and its live sandboxes already use.
 */
export function sandboxReservation(usage: DiskUsage, quotaBytes: number): { reserved: number } | DiskQuotaExceeded {
  const usedBytes = usage.workspaceBytes + usage.sandboxBytes;
  const neededBytes = usage.workspaceBytes;
  if (usedBytes + neededBytes > quotaBytes) return { overQuota: true, usedBytes, neededBytes, quotaBytes };
  return { reserved: neededBytes };
}
