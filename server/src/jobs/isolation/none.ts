import { passedEnv } from "./agent-env.js";
import type { SandboxConfig } from "./config.js";
import type { Isolation, JailRequest, PreparedJail } from "./isolation.js";
import { prlimitArgs } from "./limits.js";
import { probeIsolation } from "./probe.js";

/**
 * No jail (`KNIFY_SANDBOX_ISOLATION=none`, only when the operator asks for it by name): the agent runs as the
 * server's user in the sandbox directory and can see everything the server can. The environment is still built
 * from nothing, and the limits still apply, except RLIMIT_NPROC, which would count the server's own processes.
 */
export class NoIsolation implements Isolation {
  readonly name = "none";
  readonly jailed = false;

  constructor(
    private readonly config: SandboxConfig,
    private readonly serverEnv: NodeJS.ProcessEnv,
  ) {}

  agentPath(sandboxPath: string): string {
    return sandboxPath;
  }

  async prepare(request: JailRequest): Promise<PreparedJail> {
    const [file, ...args] = [...prlimitArgs("prlimit", this.config.limits, false), ...request.argv];
    return {
      file: file ?? "prlimit",
      args,
      env: {
        PATH: this.serverEnv.PATH ?? "/usr/local/bin:/usr/bin:/bin",
        HOME: request.sandboxPath,
        TMPDIR: this.serverEnv.TMPDIR ?? "/tmp",
        LANG: this.serverEnv.LANG ?? "C.UTF-8",
        ...passedEnv(this.config.passEnv, this.serverEnv),
        ...request.env,
      },
      cwd: request.sandboxPath,
      fdData: [],
      release: () => {},
    };
  }

  probe(): Promise<void> {
    return probeIsolation(this, false);
  }
}
