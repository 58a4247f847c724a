import { ConfigError, envInteger } from "../settings.js";
import { readDiskQuota } from "../workspaces/quota-setting.js";

/** The runners a server can be configured with (`KNIFY_RUNNER`). Test-mode jobs always use `simulated`. */
export type RunnerKind = "simulated" | "command" | "agents";

/** The jobs feature's settings, read from `KNIFY_*` variables (see `loadJobsConfig`). */
export interface JobsConfig {
  /** Runner for jobs created with live keys. */
  runner: RunnerKind;
  /** Shell command of the agent (`/bin/sh -c`), required for the command runner. */
  agentCommand: string | null;
  simulatorDelayMs: number;
  jobTimeoutMs: number;
  /** Turns this replica runs at once with the command or agents runner; the rest stay `pending`. */
  maxConcurrentJobs: number;
  /** Unfinished test-mode jobs a workspace may have. */
  testModeMaxActiveJobs: number;
  /** Names this replica's claims in the queue; replicas sharing a database need distinct ids. */
  replicaId: string;
  /**
   * How long a claimed turn stays this replica's without renewal. The replica renews every sixth of it; when
   * it dies (SIGKILL, power), another replica fails its running turn within `leaseMs` plus one renewal period.
   */
  leaseMs: number;
  sseKeepAliveMs: number;
  /** Event streams one key may hold open at once on this replica (429 `too_many_streams` beyond). */
  maxStreamsPerKey: number;
  /** How long a continue of a job whose turn still runs waits for it to end (0: 409 at once); under the SDK's 60 s timeout. */
  continueWaitMs: number;
  /** A workspace's disk quota (its files plus its jobs' sandboxes), shared with the workspaces feature. */
  diskQuotaBytes: number;
  /** A finished job idle this long is cleaned up (its sandbox deleted). */
  sandboxTtlMs: number;
}

/** `KNIFY_SANDBOX_TTL_MS` when unset: a day, so a job can be continued the next day. */
export const DEFAULT_SANDBOX_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Reads and validates the jobs settings; throws `ConfigError` with a message naming the bad variable.
 * @example const config = loadJobsConfig({ KNIFY_RUNNER: "command", KNIFY_AGENT_COMMAND: "cursor-agent -p \"$1\"" }, "replica-1");
 */
export function loadJobsConfig(env: NodeJS.ProcessEnv, replicaId: string): JobsConfig {
  const runner = env.KNIFY_RUNNER || "simulated";
  if (runner !== "simulated" && runner !== "command" && runner !== "agents") {
    throw new ConfigError(`KNIFY_RUNNER must be "simulated", "command" or "agents"; got ${JSON.stringify(runner)}.`);
  }
  const agentCommand = env.KNIFY_AGENT_COMMAND?.trim() || null;
  if (runner === "command" && agentCommand === null) {
    throw new ConfigError(
      'KNIFY_RUNNER=command needs KNIFY_AGENT_COMMAND, the shell command that runs the agent (it gets the prompt as "$1" and in $KNIFY_PROMPT).',
    );
  }
  return {
    runner,
    agentCommand,
    simulatorDelayMs: envInteger(env, "KNIFY_SIMULATOR_DELAY_MS", 200, 0, 600_000),
    jobTimeoutMs: envInteger(env, "KNIFY_JOB_TIMEOUT_MS", 30 * 60 * 1000, 1, 7 * 24 * 60 * 60 * 1000),
    maxConcurrentJobs: envInteger(env, "KNIFY_MAX_CONCURRENT_JOBS", 4, 1, 10_000),
    testModeMaxActiveJobs: envInteger(env, "KNIFY_TEST_MODE_MAX_ACTIVE_JOBS", 5, 1, 10_000),
    replicaId,
    leaseMs: envInteger(env, "KNIFY_JOB_LEASE_MS", 60_000, 600, 3_600_000),
    sseKeepAliveMs: envInteger(env, "KNIFY_SSE_KEEPALIVE_MS", 15_000, 10, 3_600_000),
    maxStreamsPerKey: envInteger(env, "KNIFY_MAX_STREAMS_PER_KEY", 20, 1, 10_000),
    continueWaitMs: envInteger(env, "KNIFY_CONTINUE_WAIT_MS", 30_000, 0, 3_600_000),
    diskQuotaBytes: readDiskQuota(env),
    sandboxTtlMs: envInteger(env, "KNIFY_SANDBOX_TTL_MS", DEFAULT_SANDBOX_TTL_MS, 1000, 365 * DEFAULT_SANDBOX_TTL_MS),
  };
}
