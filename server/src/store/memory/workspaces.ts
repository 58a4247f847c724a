import type { WebhookEventInput } from "../webhook-event.js";
import type {
  CreateWorkspaceOutcome,
  WorkspaceContents,
  WorkspacePageQuery,
  WorkspaceRecord,
  WorkspaceRepo,
} from "../workspaces-repo.js";
import { enqueueWebhookEvent } from "./outbox.js";
import type { MemoryTables, WorkspaceRow } from "./tables.js";

const toRecord = ({ nameScope: _, ...record }: WorkspaceRow): WorkspaceRecord => structuredClone(record);

/** Newest first: `created_at`, then id, descending. */
const newestFirst = (a: WorkspaceRow, b: WorkspaceRow) =>
  b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** Workspaces in memory; each write queues its webhook event in the same step. */
export class MemoryWorkspaceRepo implements WorkspaceRepo {
  constructor(private readonly t: MemoryTables) {}

  async create(
    workspace: WorkspaceRecord,
    event: WebhookEventInput,
    nameScope: string | null = null,
  ): Promise<CreateWorkspaceOutcome> {
    const sameId = this.t.workspaces.get(workspace.id);
    if (sameId) return { conflict: "id", existing: toRecord(sameId) };
    const sameName = this.named(workspace.name, nameScope);
    if (sameName) return { conflict: "name", existing: toRecord(sameName) };
    this.t.workspaces.set(workspace.id, { ...structuredClone(workspace), nameScope: nameScope ?? "" });
    enqueueWebhookEvent(this.t, event);
    return { created: structuredClone(workspace) };
  }

  async get(id: string): Promise<WorkspaceRecord | null> {
    const row = this.t.workspaces.get(id);
    return row ? toRecord(row) : null;
  }

  async getByName(name: string, nameScope: string | null = null): Promise<WorkspaceRecord | null> {
    const row = this.named(name, nameScope);
    return row ? toRecord(row) : null;
  }

  async listByName(name: string, limit: number): Promise<WorkspaceRecord[]> {
    return [...this.t.workspaces.values()]
      .filter((w) => w.name === name)
      .sort((a, b) => newestFirst(b, a))
      .slice(0, Math.max(0, limit))
      .map(toRecord);
  }

  async list(query: WorkspacePageQuery): Promise<WorkspaceRecord[]> {
    const { after } = query;
    return [...this.t.workspaces.values()]
      .filter((w) => query.workspaceId === undefined || w.id === query.workspaceId)
      .filter(
        (w) =>
          after === undefined || w.createdAt < after.createdAt || (w.createdAt === after.createdAt && w.id < after.id),
      )
      .sort(newestFirst)
      .slice(0, Math.max(0, query.limit))
      .map(toRecord);
  }

  async replaceContents(
    id: string,
    contents: WorkspaceContents,
    event: WebhookEventInput,
  ): Promise<WorkspaceRecord | null> {
    const row = this.t.workspaces.get(id);
    if (!row) return null;
    Object.assign(row, { updatedAt: contents.updatedAt, fileCount: contents.fileCount, sizeBytes: contents.sizeBytes });
    enqueueWebhookEvent(this.t, event);
    return toRecord(row);
  }

  async delete(id: string): Promise<"deleted" | "not_found" | "busy"> {
    if (!this.t.workspaces.has(id)) return "not_found";
    for (const job of this.t.jobs.values()) {
      if (job.workspaceId === id && (job.status === "pending" || job.status === "running")) return "busy";
    }
    this.t.workspaces.delete(id);
    return "deleted";
  }

  private named(name: string, nameScope: string | null): WorkspaceRow | undefined {
    for (const w of this.t.workspaces.values()) if (w.nameScope === (nameScope ?? "") && w.name === name) return w;
    return undefined;
  }
}
