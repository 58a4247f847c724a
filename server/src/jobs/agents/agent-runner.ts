import type { Isolation, PreparedJail, SandboxLimits } from "../isolation/isolation.js";
import { limitError } from "../isolation/limits.js";
import type { RunContext, Runner, RunOutcome, TurnReport } from "../runner.js";
import { STDERR_TAIL_CHARS, superviseJailed } from "../supervise.js";
import { type AgentAdapter, adapterFor } from "./adapter.js";
import { type AgentJobEvent, cut, type JobErrorCode, type Parsed } from "./agent-events.js";
import { agentPrompt } from "./prompt.js";
import { redactor } from "./redact.js";
import { resolveBinary } from "./resolve-binary.js";

/** Longest stream-json line parsed: a tool result may hold a whole file, and a cut line is not JSON. */
const MAX_JSON_LINE_CHARS = 4 * 1024 * 1024;
/** Longest line kept in an `agent.output` or stderr `output` event (as the command runner's lines). */
const MAX_OUTPUT_LINE_CHARS = 8192;

export interface AgentRunnerOptions {
  timeoutMs: number;
  /** The server's environment: `PATH`, the `KNIFY_*_BIN` overrides and the agents' credentials come from it. */
  env: NodeJS.ProcessEnv;
  /** The jail every turn runs in (`NoIsolation` only when the operator set KNIFY_SANDBOX_ISOLATION=none). */
  isolation: Isolation;
  /** The limits the isolation applies, to name the one a failed turn ran into. */
  limits: SandboxLimits;
}

/**
 * `KNIFY_RUNNER=agents`: runs each job type's agent CLI headless in the sandbox (see `adapterFor`), parses
 * its stream-json stdout into `agent.*` events, keeps the session it reports and resumes it on the next
 * turn. A missing binary fails the turn at once (`agent_not_installed`); a non-zero exit or an error
 * result fails it with the CLI's message (`agent_failed`), secrets redacted; a timeout or an abort kills the
 * agent's process group. Every turn runs jailed (`Isolation`, issue 16); the agent's environment is the
 * jail's (`PATH`, `HOME` = its sandbox, …), `NO_COLOR`, and its own CLI's credential variable when the
 * server has it: nothing else of the server's.
 */
export class AgentRunner implements Runner {
  readonly ownsSessions = true;

  constructor(private readonly options: AgentRunnerOptions) {}

  async run(context: RunContext): Promise<RunOutcome> {
    const { job } = context;
    const adapter = adapterFor(job.spec.job_type);
    const serverEnv = this.options.env;
    const binName = serverEnv[adapter.binVariable]?.trim() || adapter.defaultBin;
    const bin = await resolveBinary(binName, serverEnv.PATH);
    if (bin === null) return notInstalled(adapter, binName);
    const built = adapter.args({
      prompt: agentPrompt(job),
      model: job.spec.model ?? "auto",
      resumeSessionId: context.sessionId,
    });
    if ("unsupportedModel" in built) {
      return {
        status: "failed",
        code: "model_not_supported",
        error: `The ${adapter.name} agent has no model ${JSON.stringify(built.unsupportedModel)}; use one of ${built.supported.join(", ")} (continue the job with spec.model).`,
      };
    }
    // Issue 13: an agent's own credentials pass through when the server has them (and no other agent's).
    const env: Record<string, string> = { NO_COLOR: "1" };
    for (const name of adapter.credentials) {
      const value = serverEnv[name];
      if (value) env[name] = value;
    }
    const redact = redactor(adapter.credentials.map((name) => serverEnv[name]));
    let jail: PreparedJail;
    try {
      jail = await this.options.isolation.prepare({
        sandboxPath: context.sandboxPath,
        argv: [bin, ...built.args],
        env,
      });
    } catch (error) {
      return {
        status: "failed",
        code: "sandbox_failed",
        error: `could not prepare the sandbox: ${(error as Error).message}`,
      };
    }
    try {
      return await this.supervise(context, adapter, bin, jail, redact);
    } finally {
      jail.release();
    }
  }

  /** Supervises the jailed agent, parsing its stdout into events, and turns its end into the outcome. */
  private async supervise(
    context: RunContext,
    adapter: AgentAdapter,
    bin: string,
    jail: PreparedJail,
    redact: (text: string) => string,
  ): Promise<RunOutcome> {
    const parser = adapter.parser();
    let session = context.sessionId;
    let report: (TurnReport & { isError: boolean }) | null = null;
    const take = ({ events, sessionId }: Parsed) => {
      if (sessionId && sessionId !== session) {
        session = sessionId;
        context.setSession(sessionId);
      }
      for (const event of events) {
        if (event.type === "agent.result") report = reportOf(event);
        context.emit(bounded(event));
      }
    };
    const end = await superviseJailed(jail, {
      timeoutMs: this.options.timeoutMs,
      signal: context.signal,
      // The scheduler already recorded why (cancel, cleanup, shutdown): this outcome is not stored.
      abortCode: "interrupted",
      onStdout: (line) => take(parser.line(line)),
      stdoutMaxChars: MAX_JSON_LINE_CHARS,
      onStderr: (raw) => {
        const line = redact(raw);
        context.output("stderr", line);
        return line;
      },
    });
    take(parser.end());
    let stopped = end.stopped;
    if (stopped === null && end.startError !== null) {
      // ENOENT: the binary vanished between the PATH lookup and the spawn.
      stopped =
        end.startError.code === "ENOENT"
          ? { code: "agent_not_installed", error: `${bin} is no longer installed (${end.startError.message})` }
          : { code: "agent_failed", error: `could not start ${bin}: ${end.startError.message}` };
    }
    if (end.limit !== null) stopped = { code: "sandbox_limit", error: limitError(end.limit, this.options.limits) };
    return outcome(bin, end.exit, stopped, report, end.stderrTail.trim(), redact);
  }
}

function notInstalled(adapter: AgentAdapter, binName: string): RunOutcome {
  const where = binName.includes("/") ? `at ${binName}` : `on the server's PATH`;
  return {
    status: "failed",
    code: "agent_not_installed",
    error: `The ${adapter.name} agent is not installed: no executable ${JSON.stringify(binName)} ${where}. Install its CLI on the server (README: "Running real agents"), or set ${adapter.binVariable} to its path.`,
  };
}

function reportOf(event: Extract<AgentJobEvent, { type: "agent.result" }>): TurnReport & { isError: boolean } {
  const { text, usage, is_error } = event.data;
  return {
    isError: is_error,
    ...(text !== undefined ? { result: text } : {}),
    ...(usage !== undefined && Object.keys(usage).length > 0 ? { usage } : {}),
  };
}

/** An unknown line is kept, but no longer than an output line. */
function bounded(event: AgentJobEvent): AgentJobEvent {
  return event.type === "agent.output"
    ? { type: event.type, data: { ...event.data, line: cut(event.data.line, MAX_OUTPUT_LINE_CHARS) } }
    : event;
}

/** The turn's outcome: a stop (timeout, abort) wins, then the CLI's own error result, then its exit status. */
function outcome(
  bin: string,
  exit: { code: number | null; signal: NodeJS.Signals | null } | null,
  stopped: { code: JobErrorCode; error: string } | null,
  report: (TurnReport & { isError: boolean }) | null,
  stderrTail: string,
  redact: (text: string) => string,
): RunOutcome {
  const { isError, result, usage } = report ?? { isError: false };
  // A failed turn has no `result` (an error result's text is its error), but what it spent still counts.
  const spent = usage !== undefined ? { usage } : {};
  if (stopped !== null) return { status: "failed", ...stopped, ...spent };
  if (isError) {
    const message = result ?? stderrTail;
    const error = redact(message ? `${bin} reported an error: ${message}` : `${bin} reported an error`);
    return { status: "failed", code: "agent_failed", ...spent, error: cut(error, STDERR_TAIL_CHARS + 200) };
  }
  if (exit?.code === 0) return { status: "completed", ...(result !== undefined ? { result } : {}), ...spent };
  const how =
    exit === null || exit.code === null
      ? `${bin} was killed by signal ${exit?.signal ?? "unknown"}`
      : `${bin} exited with code ${exit.code}`;
  return {
    status: "failed",
    code: "agent_failed",
    ...spent,
    error: stderrTail ? `${how}: ${stderrTail}` : `${how} (it wrote nothing to stderr)`,
  };
}
