import type { ChildProcess } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import type { JobErrorCode } from "../store/jobs-repo.js";
import type { PreparedJail } from "./isolation/isolation.js";
import { detectLimit, type LimitName } from "./isolation/limits.js";
import { spawnJailed } from "./isolation/spawn-jailed.js";

/** Longest output line kept in an event; longer lines are cut (an agent printing a 1 GB line must not OOM us). */
export const MAX_LINE_CHARS = 8192;
/** How much of stderr a failed turn's `error` quotes. */
export const STDERR_TAIL_CHARS = 2048;
/** Time between SIGTERM and SIGKILL when stopping an agent. */
export const KILL_GRACE_MS = 2000;

export interface SuperviseOptions {
  timeoutMs: number;
  /** Aborted by the scheduler (cancel, cleanup, shutdown). */
  signal: AbortSignal;
  /** The error code an abort stops the turn with. */
  abortCode: JobErrorCode;
  onStdout: (line: string) => void;
  /** Longest stdout line passed whole (default `MAX_LINE_CHARS`). */
  stdoutMaxChars?: number;
  /** Gets each stderr line; returns the line as it may be quoted in the turn's error (redacted, say). */
  onStderr: (line: string) => string;
}

/** How a supervised turn ended; each runner turns this into its outcome. */
export interface SupervisedEnd {
  /** A timeout or an abort stopped it (this wins over everything else). */
  stopped: { code: JobErrorCode; error: string } | null;
  /** The jail could not be spawned, or the child reported an error. */
  startError: NodeJS.ErrnoException | null;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** The last `STDERR_TAIL_CHARS` of stderr, as `onStderr` returned it. */
  stderrTail: string;
  /** The sandbox limit a failed exit ran into, if one shows. */
  limit: LimitName | null;
}

/**
 * Spawns the jail and supervises it, the one way both runners do: output split into bounded lines, a
 * timeout and the abort signal stop the whole process group (SIGTERM, then SIGKILL after
 * `KILL_GRACE_MS`), whatever the agent left running is killed when it exits, and the end is reported only
 * after both pipes are drained (or `KILL_GRACE_MS` after exit, when a process that left the group holds them).
 */
export function superviseJailed(jail: PreparedJail, options: SuperviseOptions): Promise<SupervisedEnd> {
  return new Promise<SupervisedEnd>((resolve) => {
    let child: ChildProcess;
    try {
      child = spawnJailed(jail);
    } catch (error) {
      resolve({ stopped: null, startError: error as Error, exit: null, stderrTail: "", limit: null });
      return;
    }
    let stderrTail = "";
    let stopped: SupervisedEnd["stopped"] = null;
    let startError: NodeJS.ErrnoException | null = null;
    let exit: SupervisedEnd["exit"] = null;
    let killTimer: NodeJS.Timeout | undefined;

    const stop = (reason: { code: JobErrorCode; error: string }) => {
      if (stopped !== null || exit !== null) return;
      stopped = reason;
      killGroup(child, "SIGTERM");
      killTimer = setTimeout(() => killGroup(child, "SIGKILL"), KILL_GRACE_MS);
    };
    const timeout = setTimeout(
      () => stop({ code: "timed_out", error: `timed out after ${formatDuration(options.timeoutMs)}` }),
      options.timeoutMs,
    );
    const onAbort = () => stop({ code: options.abortCode, error: "aborted" });
    options.signal.addEventListener("abort", onAbort, { once: true });
    if (options.signal.aborted) onAbort();

    splitLines(child.stdout, options.onStdout, options.stdoutMaxChars);
    splitLines(child.stderr, (raw) => {
      stderrTail = `${stderrTail}${options.onStderr(raw)}\n`.slice(-STDERR_TAIL_CHARS);
    });

    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      clearTimeout(killTimer);
      options.signal.removeEventListener("abort", onAbort);
      const failedExit = stopped === null && startError === null && exit !== null && exit.code !== 0;
      const limit = failedExit && exit !== null ? detectLimit(exit, stderrTail) : null;
      resolve({ stopped, startError, exit, stderrTail, limit });
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
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (stopped === null) startError ??= error;
      setTimeout(settle, KILL_GRACE_MS).unref();
    });
    // "close" comes after both pipes are drained, so every output line is delivered before the end.
    child.once("close", (code, signal) => {
      exit ??= { code, signal };
      settle();
    });
  });
}

/** Signals the agent's whole process group (it was spawned detached, so its pid is the group id). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Calls `onLine` per line (UTF-8, `\n` or `\r\n`), cutting lines longer than `maxChars`. */
export function splitLines(
  stream: NodeJS.ReadableStream | null,
  onLine: (line: string) => void,
  maxChars = MAX_LINE_CHARS,
): void {
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
    if (buffer.length > maxChars) {
      // Emit the cut line now and drop the rest of it, so memory stays bounded.
      emit(`${buffer.slice(0, maxChars)}…`);
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
