/** Disk a workspace uses: its files, and the sandboxes of its jobs that are not cleaned up. */
export interface DiskUsage {
  workspaceBytes: number;
  sandboxBytes: number;
}

/**
 * The disk accounting of job sandboxes, and what the sandbox sweeps need. Each job carries the bytes of its
 * sandbox: reserved when the job is created (see `NewJob.sandboxQuotaBytes`), measured once provisioned and
 * after each turn, zero once cleaned up.
 */
export interface SandboxRepo {
  /** What a workspace's files and its jobs' sandboxes use (zeros for an unknown id). */
  usage(workspaceId: string): Promise<DiskUsage>;
  /** Records the measured size of a job's sandbox; ignored once the job is cleaned up. */
  setBytes(jobId: string, bytes: number): Promise<void>;
  /** Jobs whose last turn ended at or before `cutoff` and that are not cleaned up, oldest first. */
  idleJobs(cutoff: number, limit: number): Promise<string[]>;
  /**
   * Which of `sandboxIds` belong to a job not cleaned up: any other directory under `sandboxes/` is an orphan.
   * The start-up sweep asks about the directories it finds, a bounded batch at a time, so that its memory
   * does not grow with the number of jobs (issue 11: loading every live id took a 1M-job server to 310 MiB).
   */
  liveSandboxIds(sandboxIds: readonly string[]): Promise<Set<string>>;
}
