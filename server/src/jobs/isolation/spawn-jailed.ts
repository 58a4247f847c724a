import { type ChildProcess, spawn } from "node:child_process";
import type { Writable } from "node:stream";
import type { PreparedJail } from "./isolation.js";

/**
 * Spawns a prepared jail with stdin closed and stdout/stderr piped. The process leads its own process group
 * (`detached`), so `process.kill(-child.pid, signal)` stops the jail and, through bubblewrap's PID namespace and
 * `--die-with-parent`, everything inside it. Throws like `child_process.spawn` does.
 * @example const child = spawnJailed(await isolation.prepare({ sandboxPath, argv, env }));
 */
export function spawnJailed(jail: PreparedJail): ChildProcess {
  const child = spawn(jail.file, jail.args, {
    cwd: jail.cwd,
    env: jail.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe", ...jail.fdData.map(() => "pipe" as const)],
  });
  jail.fdData.forEach((data, index) => {
    const stream = child.stdio[index + 3] as Writable | null;
    // EPIPE when the jail failed before reading: its exit status and stderr tell the story.
    stream?.on("error", () => {});
    stream?.end(data);
  });
  return child;
}
