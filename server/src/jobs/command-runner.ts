import type { ChildProcess } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import type { JobErrorCode } from "../store/jobs-repo.js";
import type { Isolation, PreparedJail, SandboxLimits } from "./isolation/isolation.js";
import { detectLimit, limitError } from "./isolation/limits.js";
import { spawnJailed } from "./isolation/spawn-jailed.js";
import type { RunContext, Runner, RunOutcome } from "./runner.js";

/** Longest output line kept in an event; longer lines are cut (an agent printing a 1 GB line must not OOM us). */
export const MAX_LINE_CHARS = 8192;
/** How much of stderr a failed turn's `error` quotes. */
export const STDERR_TAIL_CHARS = 2048;
/** Time between SIGTERM and SIGKILL when stopping an agent. */
const KILL_GRACE_MS = 2000;
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
 * `KNIFY_JOB_ID`, `KNIFY_TURN`, `KNIFY_MODEL`, `KNIFY_JOB_SPEC` (JSON) and `KNIFY_SANDBOX_DIR` set, and nothing of
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
    const env = {
      KNIFY_PROMPT: prompt,
      KNIFY_SESSION_ID: context.sessionId ?? "",
      KNIFY_JOB_ID: job.id,
      KNIFY_TURN: String(job.turns),
      KNIFY_MODEL: job.spec.model ?? "auto",
      KNIFY_JOB_SPEC: JSON.stringify(job.spec),
      KNIFY_SANDBOX_DIR: isolation.agentPath(context.sandboxPath),
    };
    let jail: PreparedJail;
    try {
      jail = await isolation.prepare({
        sandboxPath: context.sandboxPath,
        argv: ["/bin/sh", "-c", this.options.command, "knify-agent", prompt],
        env,
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

  /** Spawns the jail and turns its output and end into events and an outcome. */
  private supervise(context: RunContext, jail: PreparedJail): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawnJailed(jail);
      } catch (error) {
        resolve({ status: "failed", error: `could not start the agent: ${(error as Error).message}` });
        return;
      }
      let stderrTail = "";
      let stopReason: { message: string; code: JobErrorCode } | null = null;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
      let killTimer: NodeJS.Timeout | undefined;

      const stop = (reason: { message: string; code: JobErrorCode }) => {
        if (stopReason !== null || exit !== null) return;
        stopReason = reason;
        killGroup(child, "SIGTERM");
        killTimer = setTimeout(() => killGroup(child, "SIGKILL"), KILL_GRACE_MS);
      };
      const timeout = setTimeout(
        () => stop({ message: `timed out after ${formatDuration(this.options.timeoutMs)}`, code: "timed_out" }),
        this.options.timeoutMs,
      );
      const onAbort = () => stop({ message: "aborted", code: "cancelled" });
      context.signal.addEventListener("abort", onAbort, { once: true });
      if (context.signal.aborted) onAbort();

      splitLines(child.stdout, (line) => {
        const session = SESSION_LINE.exec(line);
        if (session?.[1]) context.setSession(session[1]);
        context.output("stdout", line);
      });
      splitLines(child.stderr, (line) => {
        stderrTail = `${stderrTail}${line}\n`.slice(-STDERR_TAIL_CHARS);
        context.output("stderr", line);
      });

      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        clearTimeout(killTimer);
        context.signal.removeEventListener("abort", onAbort);
        if (stopReason !== null) return resolve({ status: "failed", error: stopReason.message, code: stopReason.code });
        if (exit?.code === 0) return resolve({ status: "completed" });
        const limit = exit === null ? null : detectLimit(exit, stderrTail);
        if (limit !== null)
          return resolve({ status: "failed", code: "sandbox_limit", error: limitError(limit, this.options.limits) });
        const tail = stderrTail.trim();
        const how =
          exit?.code === null || exit === null
            ? `agent was killed by signal ${exit?.signal ?? "unknown"}`
            : `agent exited with code ${exit.code}`;
        resolve({ status: "failed", error: tail ? `${how}: ${tail}` : `${how} (it wrote nothing to stderr)` });
      };
      child.once("exit", (code, signal) => {
        exit = { code, signal };
        // The turn is over: whatever the agent left running in the background stops too (the sandbox pauses).
        killGroup(child, "SIGKILL");
        // A process that left the group (setsid) may still hold the pipes; do not wait for it forever.
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          settle();
        }, KILL_GRACE_MS).unref();
      });
      child.once("error", (error) => {
        stopReason ??= { message: `could not start the agent: ${error.message}`, code: "agent_failed" };
        setTimeout(settle, KILL_GRACE_MS).unref();
      });
      // "close" comes after both pipes are drained, so every output line is delivered before the outcome.
      child.once("close", (code, signal) => {
        exit ??= { code, signal };
        settle();
      });
    });
  }
}

/** Signals the agent's whole process group (it was spawned detached, so its pid is the group id). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Calls `onLine` per line (UTF-8, `\n` or `\r\n`), cutting lines longer than MAX_LINE_CHARS. */
function splitLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  const decoder = new StringDecoder("utf8");
  let buffer = "";
  let skipping = false;
  const emit = (line: string) => {
    if (!skipping) onLine(line.replace(/\r$/, ""));
  };
  stream.on("data", (chunk: Buffer) => {
    buffer += decoder.write(chunk);
    let newline = buffer.indexOf("\n");
    while (newline !== -1) {
      emit(buffer.slice(0, newline));
      skipping = false;
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf("\n");
    }
    if (buffer.length > MAX_LINE_CHARS) {
      // Emit the cut line now and drop the rest of it, so memory stays bounded.
      emit(`${buffer.slice(0, MAX_LINE_CHARS)}…`);
      skipping = true;
      buffer = "";
    }
  });
  stream.on("end", () => {
    buffer += decoder.end();
    if (buffer !== "") emit(buffer);
  });
}

/** 300 → "300 ms", 90_000 → "90 s", 1_800_000 → "30 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000 || ms % 60_000 !== 0) return `${Math.round(ms / 100) / 10} s`;
  return `${ms / 60_000} min`;
}
