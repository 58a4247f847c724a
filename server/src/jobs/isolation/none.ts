import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { passedEnv } from "./agent-env.js";
import type { SandboxConfig } from "./config.js";
import { type Isolation, type JailRequest, jailFiles, type PreparedJail } from "./isolation.js";
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
    // The runner's files go to a private temporary directory of the server's user, removed at release.
    const files = jailFiles(request);
    const dir = files.length > 0 ? mkdtempSync(join(tmpdir(), "knify-run-")) : null;
    const fileEnv: Record<string, string> = {};
    for (const entry of files) {
      const path = join(dir as string, entry.name);
      writeFileSync(path, entry.content, { mode: 0o400 });
      fileEnv[entry.env] = path;
    }
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
        ...fileEnv,
      },
      cwd: request.sandboxPath,
      fdData: [],
      release: () => {
        if (dir !== null) rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  probe(): Promise<void> {
    return probeIsolation(this, false);
  }
}
