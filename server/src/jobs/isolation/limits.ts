import type { SandboxLimits } from "./isolation.js";

/** A limit a turn can run into; each names its setting in the turn's error. */
export type LimitName = "cpu" | "memory" | "processes" | "file_size";

const SETTING: Record<LimitName, { what: string; variable: string; value: (l: SandboxLimits) => number }> = {
  cpu: { what: "CPU time", variable: "KNIFY_SANDBOX_CPU_SECONDS", value: (l) => l.cpuSeconds },
  memory: { what: "memory", variable: "KNIFY_SANDBOX_MEMORY_MB", value: (l) => l.memoryBytes / 2 ** 20 },
  processes: { what: "process", variable: "KNIFY_SANDBOX_MAX_PROCESSES", value: (l) => l.maxProcesses },
  file_size: { what: "file size", variable: "KNIFY_SANDBOX_MAX_FILE_MB", value: (l) => l.maxFileBytes / 2 ** 20 },
};

/** The message of a turn that ran into a limit (its `error.code` is `sandbox_limit`): which limit, and its setting. */
export function limitError(limit: LimitName, limits: SandboxLimits): string {
  const { what, variable, value } = SETTING[limit];
  return `the agent exceeded its ${what} limit (${variable}=${value(limits)})`;
}

/**
 * The `prlimit` argv prefix that sets the limits and then execs the agent. No shell is involved, so the prompt
 * stays one argv element. `processes: false` leaves RLIMIT_NPROC alone (unjailed it would count the server's own
 * processes). Core dumps are off: a SIGXCPU would otherwise write one into the sandbox.
 */
export function prlimitArgs(prlimit: string, limits: SandboxLimits, processes = true): string[] {
  return [
    prlimit,
    // Soft limit → SIGXCPU (detectable); the hard one, two seconds later, is SIGKILL for an agent that ignores it.
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 2}`,
    `--as=${limits.memoryBytes}`,
    `--fsize=${limits.maxFileBytes}`,
    "--core=0",
    ...(processes ? [`--nproc=${limits.maxProcesses}`] : []),
    "--",
  ];
}

// Signal numbers on Linux; a shell reports a child killed by signal N as exit code 128 + N, and so does bubblewrap.
const SIGXCPU = 24;
const SIGXFSZ = 25;

// What common runtimes print when an allocation or a fork fails (dash, bash, Python, Node, glibc strerror).
const MEMORY_TEXT =
  /Cannot allocate memory|out of memory|MemoryError|std::bad_alloc|ENOMEM|allocation failed|memory exhausted/i;
const PROCESS_TEXT = /Cannot fork|fork: Resource temporarily unavailable|fork failed|spawn .*EAGAIN|Cannot spawn/i;
const CPU_TEXT = /CPU time limit exceeded/i;
const FILE_TEXT = /File size limit exceeded|File too large|EFBIG/i;

/**
 * Which limit a failed turn ran into, as far as can be told from outside: the exit signal (SIGXCPU, SIGXFSZ, directly
 * or as exit code 128 + N) or what the agent printed on stderr (a failed allocation or fork is an error the agent
 * itself reports). An agent can fake the text, which only mislabels its own failure. SIGKILL is not attributed: it
 * may be the CPU hard limit, but also the kernel's OOM killer or an operator.
 */
export function detectLimit(
  exit: { code: number | null; signal: NodeJS.Signals | null },
  stderrTail: string,
): LimitName | null {
  if (exit.signal === "SIGXCPU" || exit.code === 128 + SIGXCPU || CPU_TEXT.test(stderrTail)) return "cpu";
  if (exit.signal === "SIGXFSZ" || exit.code === 128 + SIGXFSZ || FILE_TEXT.test(stderrTail)) return "file_size";
  if (PROCESS_TEXT.test(stderrTail)) return "processes";
  if (MEMORY_TEXT.test(stderrTail)) return "memory";
  return null;
}
