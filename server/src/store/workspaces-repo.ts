import type { WebhookEventInput } from "./webhook-event.js";

/** A stored workspace (its files live on disk under `workspaceFilesDir`). Times are epoch milliseconds. */
export interface WorkspaceRecord {
  /** `ws_…`: also the id that scopes keys to this workspace. */
  id: string;
  /** Unique; the workspace's path is `/workspaces/<name>`. */
  name: string;
  createdAt: number;
  updatedAt: number;
  fileCount: number;
  sizeBytes: number;
}

/**
 * A position in the newest-first order. Ids alone do not give that order: a key-scoped workspace keeps the
 * id its key was made with (e.g. `ws_team_a`), which sorts anywhere among the time-ordered ULID ids.
 */
export interface WorkspacePosition {
  createdAt: number;
  id: string;
}

/** One page of workspaces, newest first (`created_at`, then id, descending). */
export interface WorkspacePageQuery {
  limit: number;
  /** Only workspaces strictly after this position. */
  after?: WorkspacePosition;
  /** Only this workspace (a workspace-scoped key lists its own). */
  workspaceId?: string;
}

/** The outcome of {@link WorkspaceRepo.create}: the id or the name may already be taken. */
export type CreateWorkspaceOutcome =
  | { created: WorkspaceRecord }
  | { conflict: "id" | "name"; existing: WorkspaceRecord | null };

/** What a replacement changes. */
export interface WorkspaceContents {
  updatedAt: number;
  fileCount: number;
  sizeBytes: number;
}

/**
 * Workspaces. Every write is one transaction that also writes its webhook event, so the event commits with
 * the change. Callers put the files in place before they write the row.
 */
export interface WorkspaceRepo {
  /**
   * Inserts a workspace and its event, unless its id, or its name within `nameScope`, is taken (then nothing
   * is written). Names are unique per namespace: a workspace-scoped key's own (its workspace id), or the one
   * that keys without a workspace share (null).
   */
  create(
    workspace: WorkspaceRecord,
    event: WebhookEventInput,
    nameScope?: string | null,
  ): Promise<CreateWorkspaceOutcome>;
  get(id: string): Promise<WorkspaceRecord | null>;
  /** The workspace with this name in the namespace (null: the shared one of keys without a workspace). */
  getByName(name: string, nameScope?: string | null): Promise<WorkspaceRecord | null>;
  /** Workspaces with this name in any namespace, oldest first, at most `limit`. */
  listByName(name: string, limit: number): Promise<WorkspaceRecord[]>;
  list(query: WorkspacePageQuery): Promise<WorkspaceRecord[]>;
  /** Records new contents and writes the event; null when there is no such workspace (nothing written). */
  replaceContents(id: string, contents: WorkspaceContents, event: WebhookEventInput): Promise<WorkspaceRecord | null>;
  /**
   * Deletes the row unless a job of the workspace is `pending` or `running` ("busy"). The check and the
   * delete are one transaction, so a job row committed before it is always seen.
   */
  delete(id: string): Promise<"deleted" | "not_found" | "busy">;
}
