import type pg from "pg";
import { toRecord, type WorkspaceRow } from "../sql/workspace-rows.js";
import type { WebhookEventInput } from "../webhook-event.js";
import type {
  CreateWorkspaceOutcome,
  WorkspaceContents,
  WorkspacePageQuery,
  WorkspaceRecord,
  WorkspaceRepo,
} from "../workspaces-repo.js";
import { type Queryable, row, rows, transaction } from "./database.js";
import { enqueueWebhookEvent } from "./outbox.js";

const COLUMNS = "id, name, created_at, updated_at, file_count, size_bytes";

/** Workspaces in PostgreSQL; each write commits its webhook event in the same transaction. */
export class PostgresWorkspaceRepo implements WorkspaceRepo {
  constructor(private readonly pool: pg.Pool) {}

  async create(
    workspace: WorkspaceRecord,
    event: WebhookEventInput,
    nameScope: string | null = null,
  ): Promise<CreateWorkspaceOutcome> {
    return transaction(this.pool, async (client) => {
      // The primary key and the (name_scope, name) index decide between replicas; the loser inserts nothing.
      const inserted = await client.query(
        `INSERT INTO workspaces (id, name, name_scope, created_at, updated_at, file_count, size_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [
          workspace.id,
          workspace.name,
          nameScope ?? "",
          workspace.createdAt,
          workspace.updatedAt,
          workspace.fileCount,
          workspace.sizeBytes,
        ],
      );
      if (inserted.rowCount === 1) {
        await enqueueWebhookEvent(client, event);
        return { created: { ...workspace } };
      }
      const sameId = await row<WorkspaceRow>(client, `SELECT ${COLUMNS} FROM workspaces WHERE id = $1`, [workspace.id]);
      if (sameId) return { conflict: "id", existing: toRecord(sameId) };
      const sameName = await this.named(client, workspace.name, nameScope);
      return { conflict: "name", existing: sameName ? toRecord(sameName) : null };
    });
  }

  async get(id: string): Promise<WorkspaceRecord | null> {
    const found = await row<WorkspaceRow>(this.pool, `SELECT ${COLUMNS} FROM workspaces WHERE id = $1`, [id]);
    return found ? toRecord(found) : null;
  }

  async getByName(name: string, nameScope: string | null = null): Promise<WorkspaceRecord | null> {
    const found = await this.named(this.pool, name, nameScope);
    return found ? toRecord(found) : null;
  }

  async listByName(name: string, limit: number): Promise<WorkspaceRecord[]> {
    const found = await rows<WorkspaceRow>(
      this.pool,
      `SELECT ${COLUMNS} FROM workspaces WHERE name = $1 ORDER BY created_at, id LIMIT $2`,
      [name, limit],
    );
    return found.map(toRecord);
  }

  async list(query: WorkspacePageQuery): Promise<WorkspaceRecord[]> {
    // Row-value keyset on the (created_at, id) index: the cost of a page does not grow with the table.
    const found = await rows<WorkspaceRow>(
      this.pool,
      `SELECT ${COLUMNS} FROM workspaces
       WHERE ($1::text IS NULL OR id = $1) AND ($2::bigint IS NULL OR (created_at, id) < ($2, $3))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [query.workspaceId ?? null, query.after?.createdAt ?? null, query.after?.id ?? "", Math.max(0, query.limit)],
    );
    return found.map(toRecord);
  }

  async replaceContents(
    id: string,
    contents: WorkspaceContents,
    event: WebhookEventInput,
  ): Promise<WorkspaceRecord | null> {
    return transaction(this.pool, async (client) => {
      const updated = await row<WorkspaceRow>(
        client,
        `UPDATE workspaces SET updated_at = $2, file_count = $3, size_bytes = $4 WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, contents.updatedAt, contents.fileCount, contents.sizeBytes],
      );
      if (!updated) return null;
      await enqueueWebhookEvent(client, event);
      return toRecord(updated);
    });
  }

  async delete(id: string): Promise<"deleted" | "not_found" | "busy"> {
    return transaction(this.pool, async (client) => {
      if (!(await row(client, "SELECT 1 FROM workspaces WHERE id = $1 FOR UPDATE", [id]))) return "not_found";
      // Job creation for this workspace takes the same lock (see the job repository), so a job row
      // committed before this check is seen, and none is created while it runs.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`jobs:${id}`]);
      const busy = await row(
        client,
        "SELECT 1 FROM jobs WHERE workspace_id = $1 AND status IN ('pending', 'running') LIMIT 1",
        [id],
      );
      if (busy) return "busy";
      await client.query("DELETE FROM workspaces WHERE id = $1", [id]);
      return "deleted";
    });
  }

  private named(db: Queryable, name: string, nameScope: string | null) {
    return row<WorkspaceRow>(db, `SELECT ${COLUMNS} FROM workspaces WHERE name_scope = $1 AND name = $2`, [
      nameScope ?? "",
      name,
    ]);
  }
}
