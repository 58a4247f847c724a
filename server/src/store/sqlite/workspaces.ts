import type Database from "better-sqlite3";
import { toRecord, type WorkspaceRow } from "../sql/workspace-rows.js";
import type { WebhookEventInput } from "../webhook-event.js";
import type {
  CreateWorkspaceOutcome,
  WorkspaceContents,
  WorkspacePageQuery,
  WorkspaceRecord,
  WorkspaceRepo,
} from "../workspaces-repo.js";
import { enqueueWebhookEvent } from "./outbox.js";

/** Workspaces in SQLite; each write commits its `workspace.updated` event in the same transaction. */
export class SqliteWorkspaceRepo implements WorkspaceRepo {
  private readonly insert;
  private readonly byId;
  private readonly byName;
  private readonly anyByName;
  private readonly newest;
  private readonly newestAfter;
  private readonly setContents;
  private readonly remove;
  private readonly activeJob;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO workspaces (id, name, name_scope, created_at, updated_at, file_count, size_bytes)
       VALUES (@id, @name, @name_scope, @created_at, @updated_at, @file_count, @size_bytes)`,
    );
    this.byId = db.prepare<[string], WorkspaceRow>("SELECT * FROM workspaces WHERE id = ?");
    this.byName = db.prepare<[string, string], WorkspaceRow>(
      "SELECT * FROM workspaces WHERE name_scope = ? AND name = ?",
    );
    this.anyByName = db.prepare<[string, number], WorkspaceRow>(
      "SELECT * FROM workspaces WHERE name = ? ORDER BY created_at, id LIMIT ?",
    );
    this.newest = db.prepare<{ limit: number }, WorkspaceRow>(
      "SELECT * FROM workspaces ORDER BY created_at DESC, id DESC LIMIT @limit",
    );
    // Row-value keyset on the (created_at, id) index: the cost of a page does not grow with the table.
    this.newestAfter = db.prepare<{ limit: number; created_at: number; id: string }, WorkspaceRow>(
      `SELECT * FROM workspaces WHERE (created_at, id) < (@created_at, @id)
       ORDER BY created_at DESC, id DESC LIMIT @limit`,
    );
    this.setContents = db.prepare(
      "UPDATE workspaces SET updated_at = @updated_at, file_count = @file_count, size_bytes = @size_bytes WHERE id = @id",
    );
    this.remove = db.prepare("DELETE FROM workspaces WHERE id = ?");
    // Read in the same transaction as the delete, so a job row committed before it is always seen.
    this.activeJob = db.prepare<[string], unknown>(
      "SELECT 1 FROM jobs WHERE workspace_id = ? AND status IN ('pending', 'running') LIMIT 1",
    );
  }

  async create(
    workspace: WorkspaceRecord,
    event: WebhookEventInput,
    nameScope: string | null = null,
  ): Promise<CreateWorkspaceOutcome> {
    return this.db
      .transaction((): CreateWorkspaceOutcome => {
        const sameId = this.byId.get(workspace.id);
        if (sameId) return { conflict: "id", existing: toRecord(sameId) };
        const sameName = this.byName.get(nameScope ?? "", workspace.name);
        if (sameName) return { conflict: "name", existing: toRecord(sameName) };
        this.insert.run({
          id: workspace.id,
          name: workspace.name,
          name_scope: nameScope ?? "",
          created_at: workspace.createdAt,
          updated_at: workspace.updatedAt,
          file_count: workspace.fileCount,
          size_bytes: workspace.sizeBytes,
        });
        enqueueWebhookEvent(this.db, event);
        return { created: { ...workspace } };
      })
      .immediate();
  }

  async get(id: string): Promise<WorkspaceRecord | null> {
    const row = this.byId.get(id);
    return row ? toRecord(row) : null;
  }

  async getByName(name: string, nameScope: string | null = null): Promise<WorkspaceRecord | null> {
    const row = this.byName.get(nameScope ?? "", name);
    return row ? toRecord(row) : null;
  }

  async listByName(name: string, limit: number): Promise<WorkspaceRecord[]> {
    return this.anyByName.all(name, limit).map(toRecord);
  }

  async list(query: WorkspacePageQuery): Promise<WorkspaceRecord[]> {
    if (query.workspaceId !== undefined) {
      const row = this.byId.get(query.workspaceId);
      const after = query.after;
      const visible =
        row !== undefined &&
        (after === undefined ||
          row.created_at < after.createdAt ||
          (row.created_at === after.createdAt && row.id < after.id));
      return visible && query.limit > 0 ? [toRecord(row)] : [];
    }
    const rows = query.after
      ? this.newestAfter.all({ limit: query.limit, created_at: query.after.createdAt, id: query.after.id })
      : this.newest.all({ limit: query.limit });
    return rows.map(toRecord);
  }

  async replaceContents(
    id: string,
    contents: WorkspaceContents,
    event: WebhookEventInput,
  ): Promise<WorkspaceRecord | null> {
    return this.db
      .transaction((): WorkspaceRecord | null => {
        const changed = this.setContents.run({
          id,
          updated_at: contents.updatedAt,
          file_count: contents.fileCount,
          size_bytes: contents.sizeBytes,
        });
        if (changed.changes === 0) return null;
        enqueueWebhookEvent(this.db, event);
        const row = this.byId.get(id);
        return row ? toRecord(row) : null;
      })
      .immediate();
  }

  async delete(id: string): Promise<"deleted" | "not_found" | "busy"> {
    return this.db
      .transaction((): "deleted" | "not_found" | "busy" => {
        if (!this.byId.get(id)) return "not_found";
        if (this.activeJob.get(id) !== undefined) return "busy";
        this.remove.run(id);
        return "deleted";
      })
      .immediate();
  }
}
