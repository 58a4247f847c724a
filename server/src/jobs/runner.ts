import type { JobErrorCode, JobRecord } from "../store/jobs-repo.js";

/** How a turn ended. A failure without a `code` is the agent's own (`agent_failed`). */
export type RunOutcome = { status: "completed" } | { status: "failed"; error: string; code?: JobErrorCode };

/** What a runner gets for one turn of a job. */
export interface RunContext {
  /** The job, already `running`, with its `sandboxId` and `sessionId` set. */
  job: JobRecord;
  /** The sandbox directory (the agent's working directory). */
  sandboxPath: string;
  /** The agent session to resume. */
  sessionId: string;
  /**
   * Aborted when the job is cancelled or cleaned up, or the server stops: the runner then stops the agent
   * (its whole process group) and returns; the scheduler has already recorded why.
   */
  signal: AbortSignal;
  /** One line of agent output (becomes an `output` event). */
  output(stream: "stdout" | "stderr", line: string): void;
  /** The agent announced its session id (becomes the job's `cursor_session_id`). */
  setSession(sessionId: string): void;
}

/**
 * Runs one turn of a job in its sandbox. Implementations: `SimulatedRunner` (test keys, the default) and
 * `CommandRunner` (`KNIFY_RUNNER=command`). A runner never touches the store; the scheduler does.
 */
export interface Runner {
  run(context: RunContext): Promise<RunOutcome>;
}
