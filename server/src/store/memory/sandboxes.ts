import type { DiskUsage, SandboxRepo } from "../sandboxes-repo.js";
import { byNumberThenId, type MemoryTables } from "./tables.js";

/** What a workspace uses: its files, and the bytes of its jobs' sandboxes that are not cleaned up. */
export function diskUsage(t: MemoryTables, workspaceId: string): DiskUsage {
  let sandboxBytes = 0;
  for (const job of t.jobs.values()) {
    if (job.workspaceId === workspaceId && job.cleanedUpAt === null) sandboxBytes += job.sandboxBytes;
  }
  return { workspaceBytes: t.workspaces.get(workspaceId)?.sizeBytes ?? 0, sandboxBytes };
}

/** Sandbox disk accounting, in memory. */
export class MemorySandboxRepo implements SandboxRepo {
  constructor(private readonly t: MemoryTables) {}

  async usage(workspaceId: string): Promise<DiskUsage> {
    return diskUsage(this.t, workspaceId);
  }

  async setBytes(jobId: string, bytes: number): Promise<void> {
    const job = this.t.jobs.get(jobId);
    if (job && job.cleanedUpAt === null) job.sandboxBytes = bytes;
  }

  async idleJobs(cutoff: number, limit: number): Promise<string[]> {
    return [...this.t.jobs.values()]
      .filter((j) => j.cleanedUpAt === null && (j.status === "completed" || j.status === "failed"))
      .filter((j) => j.completedAt !== null && j.completedAt <= cutoff)
      .map((j): [number, string] => [j.completedAt ?? 0, j.id])
      .sort(byNumberThenId)
      .slice(0, Math.max(0, limit))
      .map(([, id]) => id);
  }

  async liveSandboxIds(sandboxIds: readonly string[]): Promise<Set<string>> {
    const asked = new Set(sandboxIds);
    const ids = new Set<string>();
    for (const job of this.t.jobs.values())
      if (job.cleanedUpAt === null && job.sandboxId !== null && asked.has(job.sandboxId)) ids.add(job.sandboxId);
    return ids;
  }
}
