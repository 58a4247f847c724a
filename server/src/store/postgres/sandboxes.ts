import type pg from "pg";
import type { DiskUsage, SandboxRepo } from "../sandboxes-repo.js";
import { type Queryable, row, rows } from "./database.js";

/** What a workspace uses; call inside the transaction when the answer decides a write. */
export async function diskUsage(db: Queryable, workspaceId: string): Promise<DiskUsage> {
  const found = await row<{ workspace_bytes: number; sandbox_bytes: number }>(
    db,
    `SELECT (SELECT coalesce(sum(size_bytes), 0) FROM workspaces WHERE id = $1) AS workspace_bytes,
            (SELECT coalesce(sum(sandbox_bytes), 0) FROM jobs
              WHERE workspace_id = $1 AND cleaned_up_at IS NULL AND sandbox_bytes > 0) AS sandbox_bytes`,
    [workspaceId],
  );
  return { workspaceBytes: found?.workspace_bytes ?? 0, sandboxBytes: found?.sandbox_bytes ?? 0 };
}

/** Sandbox disk accounting, in PostgreSQL. */
export class PostgresSandboxRepo implements SandboxRepo {
  constructor(private readonly pool: pg.Pool) {}

  async usage(workspaceId: string): Promise<DiskUsage> {
    return diskUsage(this.pool, workspaceId);
  }

  async setBytes(jobId: string, bytes: number): Promise<void> {
    await this.pool.query("UPDATE jobs SET sandbox_bytes = $2 WHERE id = $1 AND cleaned_up_at IS NULL", [jobId, bytes]);
  }

  async idleJobs(cutoff: number, limit: number): Promise<string[]> {
    const found = await rows<{ id: string }>(
      this.pool,
      `SELECT id FROM jobs WHERE cleaned_up_at IS NULL AND status IN ('completed', 'failed') AND completed_at <= $1
       ORDER BY completed_at, id LIMIT $2`,
      [cutoff, limit],
    );
    return found.map((r) => r.id);
  }

  async liveSandboxIds(sandboxIds: readonly string[]): Promise<Set<string>> {
    if (sandboxIds.length === 0) return new Set();
    const found = await rows<{ sandbox_id: string }>(
      this.pool,
      "SELECT sandbox_id FROM jobs WHERE cleaned_up_at IS NULL AND sandbox_id = ANY($1::text[])",
      [sandboxIds],
    );
    return new Set(found.map((r) => r.sandbox_id));
  }
}
