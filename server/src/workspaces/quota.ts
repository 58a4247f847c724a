import { ProblemError } from "../http/problem.js";
import type { DiskUsage } from "../store/sandboxes-repo.js";

/**
 * The default disk quota of one workspace: its files plus the sandboxes of its jobs (issue 15: one 509 KB
 * upload expanded to 500 MiB, and eight jobs copied it to 3.3 GB in 7 s). 2 GiB holds a workspace of the
 * largest allowed size (512 MiB extracted) and three sandbox copies of it.
 */
export const DEFAULT_DISK_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

/** Bytes of the quota left for new files (negative when over), the one place the quota arithmetic lives. */
export function quotaLeft(usage: DiskUsage, quotaBytes: number): number {
  return quotaBytes - usage.workspaceBytes - usage.sandboxBytes;
}

const CLEANUP_HINT =
  "Clean up jobs you no longer continue (POST /jobs/{job_id}/cleanup) to free their sandboxes; idle sandboxes are also removed after the server's sandbox TTL";

/** 413 for an upload whose files do not fit beside the workspace's sandboxes. */
export function uploadOverQuota(workspaceId: string, sandboxBytes: number, quotaBytes: number): ProblemError {
  const left = Math.max(0, quotaBytes - sandboxBytes);
  return new ProblemError(
    "payload_too_large",
    `The archive expands to more than the ${left} bytes workspace ${workspaceId} has left of its disk quota of ${quotaBytes} bytes (the sandboxes of its jobs use ${sandboxBytes} bytes). ${CLEANUP_HINT}, or upload a smaller archive.`,
  );
}

/** 429 for a job whose sandbox copy does not fit in the workspace's disk quota. */
export function jobOverQuota(
  workspaceId: string,
  refused: { usedBytes: number; neededBytes: number; quotaBytes: number },
): ProblemError {
  return new ProblemError(
    "disk_quota_exceeded",
    `Workspace ${workspaceId} uses ${refused.usedBytes} of its ${refused.quotaBytes}-byte disk quota (its files plus its jobs' sandboxes), and this job's sandbox needs a ${refused.neededBytes}-byte copy of the files. ${CLEANUP_HINT}; then retry.`,
    {},
    // No quick retry helps: space comes back only when sandboxes are cleaned up (the SDK does not retry a
    // wait this long; it surfaces the error).
    { "Retry-After": "300" },
  );
}

/** 429 for a continue while the workspace has no room left for what the turn's agent would write. */
export function continueOverQuota(workspaceId: string, usage: DiskUsage, quotaBytes: number): ProblemError {
  return new ProblemError(
    "disk_quota_exceeded",
    `Workspace ${workspaceId} uses ${usage.workspaceBytes + usage.sandboxBytes} of its ${quotaBytes}-byte disk quota (its files plus its jobs' sandboxes), so a new turn would have no room to write. ${CLEANUP_HINT}; then retry.`,
    {},
    { "Retry-After": "300" },
  );
}
