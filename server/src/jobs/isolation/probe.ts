import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Isolation, IsolationUnavailableError } from "./isolation.js";
import { spawnJailed } from "./spawn-jailed.js";

/** A probe that has not finished by then is a broken jail, not a slow one. */
const PROBE_TIMEOUT_MS = 30_000;

const INSTALL_HINT =
  "Install bubblewrap and util-linux (Debian/Ubuntu: apt-get install bubblewrap util-linux; Fedora: dnf install bubblewrap util-linux), " +
  "allow user namespaces when the server does not run as root, or set KNIFY_SANDBOX_ISOLATION=none to run agents unjailed " +
  "(they can then read the server's data dir, its secret key and every other job's sandbox).";

/**
 * Runs `id -u` jailed in a throw-away sandbox and checks that it worked, wrote to its workspace, and (when the
 * server is root) is not root: the fail-closed check a jailed runner makes before it starts.
 */
export async function probeIsolation(isolation: Isolation, expectUnprivileged: boolean): Promise<void> {
  const sandbox = await mkdtemp(join(tmpdir(), "knify-probe-"));
  try {
    const script = 'id -u && echo ok > "$HOME/probe" && cat "$HOME/probe"';
    const jail = await isolation.prepare({ sandboxPath: sandbox, argv: ["/bin/sh", "-c", script], env: {} });
    let result: { code: number | null; stdout: string; stderr: string };
    try {
      result = await run(jail);
    } finally {
      jail.release();
    }
    const [uid, ok] = result.stdout.trim().split("\n");
    const problem =
      result.code !== 0
        ? `the probe exited with ${result.code ?? "a signal"}: ${result.stderr.trim() || "(no output)"}`
        : ok !== "ok"
          ? "the probe could not write to its workspace"
          : expectUnprivileged && uid === "0"
            ? "the probe ran as root"
            : null;
    if (problem !== null) {
      throw new IsolationUnavailableError(
        `The ${isolation.name} jail for agent turns does not work on this host (${problem}). ${INSTALL_HINT}`,
      );
    }
  } catch (error) {
    if (error instanceof IsolationUnavailableError) throw error;
    throw new IsolationUnavailableError(
      `The ${isolation.name} jail for agent turns does not work on this host (${(error as Error).message}). ${INSTALL_HINT}`,
    );
  } finally {
    await rm(sandbox, { recursive: true, force: true });
  }
}

function run(
  jail: Parameters<typeof spawnJailed>[0],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnJailed(jail);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, PROBE_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: stderr.slice(-1000) });
    });
  });
}
