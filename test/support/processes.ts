import { readdirSync, readFileSync } from "node:fs";

/**
 * Host pids of the live processes that belong to a job: those whose environment holds `KNIFY_JOB_ID=<jobId>`
 * (the runner sets it for the jail and everything in it). Pids printed inside a jail are from its own PID namespace,
 * so the host can only find the jail's processes this way. Zombies have an empty environment and do not count.
 */
export function jobProcesses(jobId: string): number[] {
  const marker = `KNIFY_JOB_ID=${jobId}\0`;
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "latin1").includes(marker)) pids.push(Number(name));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}
