import type { Isolation, PreparedJail, SandboxLimits } from "./isolation/isolation.js";
import { limitError } from "./isolation/limits.js";
import type { RunContext, Runner, RunOutcome } from "./runner.js";
import { superviseJailed } from "./supervise.js";

const SESSION_LINE = /^KNIFY_SESSION_ID=(\S{1,200})\s*$/;

export interface CommandRunnerOptions {
  /** Run with `/bin/sh -c`; the prompt is `"$1"` and `$KNIFY_PROMPT`. */
  command: string;
  timeoutMs: number;
  /** The jail every turn runs in (`NoIsolation` only when the operator set KNIFY_SANDBOX_ISOLATION=none). */
  isolation: Isolation;
  /** The limits the isolation applies, to name the one a failed turn ran into. */
  limits: SandboxLimits;
}

/**
 * Runs the configured agent command for a turn, jailed in its sandbox (see `Isolation`):
 * `/bin/sh -c "$KNIFY_AGENT_COMMAND" knify-agent "<prompt>"`, with `KNIFY_PROMPT`, `KNIFY_SESSION_ID`,
 * `KNIFY_JOB_ID`, `KNIFY_TURN`, `KNIFY_MODEL`, `KNIFY_JOB_SPEC` (JSON, when it fits one variable), `KNIFY_JOB_SPEC_FILE`
 * (the same JSON in a read-only file) and `KNIFY_SANDBOX_DIR` set, and nothing of
 * the server's environment but the credentials KNIFY_SANDBOX_PASS_ENV names.
 * stdout and stderr lines become output events; a stdout line `KNIFY_SESSION_ID=<id>` sets the session.
 * Exit 0 completes the turn; anything else fails it with the stderr tail, or with `error.code` `sandbox_limit` when it ran
 * into a limit. The jail runs in its own process group, so a timeout, a cleanup or the end of the turn stops
 * everything it started.
 */
export class CommandRunner implements Runner {
  constructor(private readonly options: CommandRunnerOptions) {}

  async run(context: RunContext): Promise<RunOutcome> {
    const { job } = context;
    const { isolation } = this.options;
    const prompt = job.spec.prompt ?? "";
    const spec = JSON.stringify(job.spec);
    const env: Record<string, string> = {
      KNIFY_PROMPT: prompt,
      KNIFY_SESSION_ID: context.sessionId ?? "",
      KNIFY_JOB_ID: job.id,
      KNIFY_TURN: String(job.turns),
      KNIFY_MODEL: job.spec.model ?? "auto",
      KNIFY_SANDBOX_DIR: isolation.agentPath(context.sandboxPath),
    };
    // A prompt at its 100,000-byte cap can be twice that as JSON (quotes, newlines), past what Linux lets one
    // variable hold (spawn E2BIG): the spec is always in the file KNIFY_JOB_SPEC_FILE names, and also in
    // KNIFY_JOB_SPEC when it fits.
    if (fitsOneVariable("KNIFY_JOB_SPEC", spec)) env.KNIFY_JOB_SPEC = spec;
    let jail: PreparedJail;
    try {
      jail = await isolation.prepare({
        sandboxPath: context.sandboxPath,
        argv: ["/bin/sh", "-c", this.options.command, "knify-agent", prompt],
        env,
        files: [{ name: "job-spec.json", env: "KNIFY_JOB_SPEC_FILE", content: spec }],
      });
    } catch (error) {
      return { status: "failed", error: `could not prepare the sandbox: ${(error as Error).message}` };
    }
    try {
      return await this.supervise(context, jail);
    } finally {
      jail.release();
    }
  }

  /** Supervises the jailed command and turns its end into the turn's outcome. */
  private async supervise(context: RunContext, jail: PreparedJail): Promise<RunOutcome> {
    const end = await superviseJailed(jail, {
      timeoutMs: this.options.timeoutMs,
      signal: context.signal,
      abortCode: "cancelled",
      onStdout: (line) => {
        const session = SESSION_LINE.exec(line);
        if (session?.[1]) context.setSession(session[1]);
        context.output("stdout", line);
      },
      onStderr: (line) => {
        context.output("stderr", line);
        return line;
      },
    });
    if (end.stopped !== null) return { status: "failed", ...end.stopped };
    if (end.startError !== null)
      return { status: "failed", code: "agent_failed", error: `could not start the agent: ${end.startError.message}` };
    if (end.exit?.code === 0) return { status: "completed" };
    if (end.limit !== null)
      return { status: "failed", code: "sandbox_limit", error: limitError(end.limit, this.options.limits) };
    const tail = end.stderrTail.trim();
    const how =
      end.exit === null || end.exit.code === null
        ? `agent was killed by signal ${end.exit?.signal ?? "unknown"}`
        : `agent exited with code ${end.exit.code}`;
    return { status: "failed", error: tail ? `${how}: ${tail}` : `${how} (it wrote nothing to stderr)` };
  }
}

/** Linux's MAX_ARG_STRLEN: the most bytes one argument or `NAME=value` string may have, with its NUL. */
const MAX_ARG_STRLEN = 32 * 4096;

function fitsOneVariable(name: string, value: string): boolean {
  return Buffer.byteLength(`${name}=${value}`) + 1 <= MAX_ARG_STRLEN;
}
