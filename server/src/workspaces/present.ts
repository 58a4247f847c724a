import type { components } from "../generated/schema.js";
import { newId } from "../ids.js";
import type { WebhookEventInput } from "../store/webhook-event.js";
import type { WorkspaceRecord } from "../store/workspaces-repo.js";
import { iso } from "../timestamps.js";

type Workspace = components["schemas"]["Workspace"];

/** A workspace as the API shows it (spec schema `Workspace`); `preset` for the server's pre-configured ones. */
export function presentWorkspace(workspace: WorkspaceRecord, preset = false): Workspace {
  return {
    workspace_id: workspace.id,
    name: workspace.name,
    path: workspacePath(workspace.name),
    created_at: iso(workspace.createdAt),
    updated_at: iso(workspace.updatedAt),
    file_count: workspace.fileCount,
    size_bytes: workspace.sizeBytes,
    preset,
  };
}

/** The path jobs name in `spec.workspace_path`. */
export const workspacePath = (name: string): string => `/workspaces/${name}`;

/** The `workspace.updated` event for a workspace whose contents were just written (upload or replace). */
export function workspaceUpdatedEvent(workspace: WorkspaceRecord, now: number): WebhookEventInput {
  return {
    id: newId("evt"),
    type: "workspace.updated",
    workspaceId: workspace.id,
    createdAt: now,
    data: presentWorkspace(workspace),
  };
}
