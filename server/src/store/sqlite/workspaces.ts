import type Database from "better-sqlite3";
import type { WebhookEventInput } from "../webhook-event.js";
import type {
  CreateWorkspaceOutcome,
  WorkspaceContents,
  WorkspacePageQuery,
  WorkspaceRecord,
  WorkspaceRepo,
} from "../workspaces-repo.js";
import type { Migration } from "./migrations.js";
import { enqueueWebhookEvent } from "./outbox.js";

export const workspacesMigration: Migration = {
  version: 2,
  name: "workspaces",
  sql: `
    CREATE TABLE workspaces (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      file_count INTEGER NOT NULL CHECK (file_count >= 0),
      size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0)
    );
    CREATE INDEX workspaces_newest ON workspaces(created_at DESC, id DESC);
  `,
};

/**
 * Workspace names are unique per namespace, not globally, so that one tenant can neither learn another's
 * names (from a 409) nor squat them (issue 15, item 11). A workspace made by a workspace-scoped key has its
 * own namespace (its id); those made by keys without a workspace share the namespace ''. Dropping the
 * column's UNIQUE needs a table rebuild (SQLite's documented 12-step procedure), done here from the live
 * schema so that columns other migrations added survive it.
 */
export const workspaceNameScopeMigration: Migration = {
  version: 6,
  name: "workspace names unique per namespace",
  sql: "",
  run(db) {
    const table = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'workspaces'").get() as {
      sql: string;
    };
    const rebuilt = table.sql
      .replace(/\bname TEXT NOT NULL UNIQUE\b/, "name TEXT NOT NULL")
      .replace(/^CREATE TABLE "?workspaces"?/, "CREATE TABLE workspaces_rebuilt");
    if (!rebuilt.startsWith("CREATE TABLE workspaces_rebuilt") || /\bUNIQUE\b/.test(rebuilt)) {
      throw new Error("the workspaces table is not declared as this migration expects");
    }
    const indexes = db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'workspaces' AND sql IS NOT NULL")
      .all() as { sql: string }[];
    const columns = (db.pragma("table_info(workspaces)") as { name: string }[]).map((c) => `"${c.name}"`).join(", ");
    db.exec(rebuilt);
    db.exec(`INSERT INTO workspaces_rebuilt (${columns}) SELECT ${columns} FROM workspaces`);
    db.exec("DROP TABLE workspaces");
    db.exec("ALTER TABLE workspaces_rebuilt RENAME TO workspaces");
    for (const index of indexes) db.exec(index.sql);
    db.exec("ALTER TABLE workspaces ADD COLUMN name_scope TEXT NOT NULL DEFAULT ''");
    db.exec("CREATE UNIQUE INDEX workspaces_scoped_name ON workspaces(name_scope, name)");
  },
};

interface WorkspaceRow {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
  file_count: number;
  size_bytes: number;
}

const toRecord = (row: WorkspaceRow): WorkspaceRecord => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  fileCount: row.file_count,
  sizeBytes: row.size_bytes,
});

// The jobs feature owns the `jobs` table; a workspace is busy while one of its jobs is in one of these states.
const ACTIVE_JOB_STATUSES = ["pending", "running"] as const;

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
  private activeJob: Database.Statement<[string], unknown> | null;

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
    this.activeJob = prepareActiveJobQuery(db);
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
        this.activeJob ??= prepareActiveJobQuery(this.db);
        if (this.activeJob?.get(id) !== undefined) return "busy";
        this.remove.run(id);
        return "deleted";
      })
      .immediate();
  }
}

/**
 * The busy check reads the jobs feature's table directly (`jobs.workspace_id`, `jobs.status`), so that it
 * runs in the same transaction as the delete. Null while there is no `jobs` table (no job can be running);
 * a `jobs` table without those columns is a schema mismatch, reported at start rather than ignored.
 */
function prepareActiveJobQuery(db: Database.Database): Database.Statement<[string], unknown> | null {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").get();
  if (table === undefined) return null;
  const columns = new Set((db.pragma("table_info(jobs)") as { name: string }[]).map((c) => c.name));
  if (!columns.has("workspace_id") || !columns.has("status")) {
    throw new Error(
      "the jobs table has no workspace_id or status column, which the workspace delete check (workspace_busy) reads",
    );
  }
  const statuses = ACTIVE_JOB_STATUSES.map((s) => `'${s}'`).join(", ");
  return db.prepare<[string], unknown>(`SELECT 1 FROM jobs WHERE workspace_id = ? AND status IN (${statuses}) LIMIT 1`);
}
