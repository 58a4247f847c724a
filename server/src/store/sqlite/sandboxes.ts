import type Database from "better-sqlite3";
import type { DiskUsage, SandboxRepo } from "../sandboxes-repo.js";

/** What a workspace uses; call inside a transaction when the answer decides a write. */
export function diskUsage(db: Database.Database, workspaceId: string): DiskUsage {
  const row = db
    .prepare(
      `SELECT (SELECT coalesce(sum(size_bytes), 0) FROM workspaces WHERE id = @id) AS workspace_bytes,
              (SELECT coalesce(sum(sandbox_bytes), 0) FROM jobs
                WHERE workspace_id = @id AND cleaned_up_at IS NULL AND sandbox_bytes > 0) AS sandbox_bytes`,
    )
    .get({ id: workspaceId }) as { workspace_bytes: number; sandbox_bytes: number };
  return { workspaceBytes: row.workspace_bytes, sandboxBytes: row.sandbox_bytes };
}

export class SqliteSandboxRepo implements SandboxRepo {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      setBytes: p("UPDATE jobs SET sandbox_bytes = ? WHERE id = ? AND cleaned_up_at IS NULL"),
      idle: p(
        `SELECT id FROM jobs WHERE cleaned_up_at IS NULL AND status IN ('completed', 'failed')
           AND completed_at <= ? ORDER BY completed_at LIMIT ?`,
      ),
      // One JSON array parameter: any batch size fits, whatever SQLite's limit on bound variables.
      live: p(
        "SELECT sandbox_id FROM jobs WHERE cleaned_up_at IS NULL AND sandbox_id IN (SELECT value FROM json_each(?))",
      ),
    };
  }

  async usage(workspaceId: string): Promise<DiskUsage> {
    return diskUsage(this.db, workspaceId);
  }

  async setBytes(jobId: string, bytes: number): Promise<void> {
    this.s.setBytes.run(bytes, jobId);
  }

  async idleJobs(cutoff: number, limit: number): Promise<string[]> {
    return (this.s.idle.all(cutoff, limit) as { id: string }[]).map((row) => row.id);
  }

  async liveSandboxIds(sandboxIds: readonly string[]): Promise<Set<string>> {
    if (sandboxIds.length === 0) return new Set();
    const found = this.s.live.all(JSON.stringify(sandboxIds)) as { sandbox_id: string }[];
    return new Set(found.map((row) => row.sandbox_id));
  }
}
