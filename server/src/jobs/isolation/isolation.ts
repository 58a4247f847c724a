/** Where an agent may connect: `none` gives the jail its own network namespace with only a loopback device. */
export type SandboxNetwork = "none" | "full";

/** Per-process resource limits of an agent turn (setrlimit), applied inside the jail. */
export interface SandboxLimits {
  /** RLIMIT_CPU: CPU seconds of each process (SIGXCPU, then SIGKILL two seconds later). */
  cpuSeconds: number;
  /** RLIMIT_AS: address space of each process, in bytes (allocations beyond fail with ENOMEM). */
  memoryBytes: number;
  /** RLIMIT_NPROC: processes and threads of the jail's uid (fork fails with EAGAIN beyond). */
  maxProcesses: number;
  /** RLIMIT_FSIZE: largest file a process may write, in bytes (SIGXFSZ / EFBIG beyond). */
  maxFileBytes: number;
  /** Size of each of the jail's /tmp and /var/tmp (memory-backed), in bytes. */
  tmpBytes: number;
}

/** What a runner wants to run jailed for one turn. */
export interface JailRequest {
  /** The job's sandbox on the host: the only writable path the agent gets. */
  sandboxPath: string;
  /** The agent's argv (argv[0] an absolute path); the prompt stays one element, never part of a shell string. */
  argv: string[];
  /** The variables the runner sets (KNIFY_PROMPT, …). The backend adds PATH, HOME, TMPDIR, LANG and the allowed credentials. */
  env: Record<string, string>;
  /**
   * Read-only files for the agent, for data too long for an environment variable (Linux caps each at 128 KiB):
   * the backend places each where the agent can read it and sets the variable `env` to its path.
   */
  files?: JailFile[];
}

/** A read-only file handed to the agent; `name` is a plain file name. */
export interface JailFile {
  name: string;
  env: string;
  content: string;
}

/** A jailed process ready to spawn (see `spawnJailed`): the program, its argv and environment, and the data for extra fds. */
export interface PreparedJail {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Contents written to fds 3, 4, … of the child (bubblewrap reads the jail's /etc/passwd and /etc/group there). */
  fdData: string[];
  /** Frees what `prepare` reserved (the jail's uid); call once the process and its pipes are gone. */
  release(): void;
}

/**
 * A way to jail an agent turn. Runners only call `agentPath` and `prepare` and spawn the result with
 * `spawnJailed`, so another backend (a container, a microVM) slots in without touching them.
 * Implementations: `BubblewrapIsolation` (the default) and `NoIsolation` (`KNIFY_SANDBOX_ISOLATION=none`).
 */
export interface Isolation {
  readonly name: "bubblewrap" | "none";
  /** True when agents run jailed; false means the operator asked for none (the server warns at every start). */
  readonly jailed: boolean;
  /** The sandbox as the agent sees it (its working directory and HOME). */
  agentPath(sandboxPath: string): string;
  /** Makes the sandbox usable by the jail and builds the command line; `release()` the result when the turn ends. */
  prepare(request: JailRequest): Promise<PreparedJail>;
  /** Runs a trivial jailed command; throws an `IsolationUnavailableError` that says what to install when it fails. */
  probe(): Promise<void>;
}

/** The request's files, each checked to be a plain file name (they are placed by name in a directory of their own). */
export function jailFiles(request: JailRequest): JailFile[] {
  const files = request.files ?? [];
  for (const file of files) {
    if (!/^[A-Za-z0-9._-]+$/.test(file.name) || file.name.startsWith(".")) {
      throw new Error(`a jail file needs a plain name, not ${JSON.stringify(file.name)}`);
    }
  }
  return files;
}

/** The jail does not work on this host; the message says why and what to install. */
export class IsolationUnavailableError extends Error {}
