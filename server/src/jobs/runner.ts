import type { JobErrorCode, JobRecord, NewJobEvent } from "../store/jobs-repo.js";
import type { AgentUsage } from "./agents/agent-events.js";

/** What an agent reported at the end of its turn (it becomes the job's `result` and `usage`). */
export interface TurnReport {
  result?: string;
  usage?: AgentUsage;
}

/** How a turn ended. A failure without a `code` is the agent's own (`agent_failed`). */
export type RunOutcome =
  | ({ status: "completed" } & TurnReport)
  | ({ status: "failed"; error: string; code?: JobErrorCode } & TurnReport);

/** What a runner gets for one turn of a job. */
export interface RunContext {
  /** The job, already `running`, with its `sandboxId` and `sessionId` set. */
  job: JobRecord;
  /** The sandbox directory (the agent's working directory). */
  sandboxPath: string;
  /** The agent session to resume; null when the runner's agent starts its own (`Runner.ownsSessions`). */
  sessionId: string | null;
  /**
   * Aborted when the job is cancelled or cleaned up, or the server stops: the runner then stops the agent
   * (its whole process group) and returns; the scheduler has already recorded why.
   */
  signal: AbortSignal;
  /** One line of agent output (becomes an `output` event). */
  output(stream: "stdout" | "stderr", line: string): void;
  /** The agent announced its session id (becomes the job's `session_id` and `cursor_session_id`). */
  setSession(sessionId: string): void;
  /** A structured event of the agent (`agent.message`, `agent.tool_call`, …), appended in order with the output. */
  emit(event: NewJobEvent): void;
}

/**
 * Runs one turn of a job in its sandbox. Implementations: `SimulatedRunner` (test keys, the default) and
 * `CommandRunner` (`KNIFY_RUNNER=command`). A runner never touches the store; the scheduler does.
 */
export interface Runner {
  /** The agent names its own sessions (the agents runner): the scheduler then invents none for a first turn. */
  readonly ownsSessions?: boolean;
  run(context: RunContext): Promise<RunOutcome>;
}
