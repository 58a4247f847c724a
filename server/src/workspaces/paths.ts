import { join } from "node:path";

/** Where a workspace's files live: `<dataDir>/workspaces/<workspace_id>`. */
export function workspaceFilesDir(dataDir: string, workspaceId: string): string {
  return join(dataDir, "workspaces", workspaceId);
}

/** Where a job's sandbox lives: `<dataDir>/sandboxes/<sandbox_id>`. */
export function sandboxDir(dataDir: string, sandboxId: string): string {
  return join(sandboxesDir(dataDir), sandboxId);
}

/** The directory that holds every sandbox. */
export function sandboxesDir(dataDir: string): string {
  return join(dataDir, "sandboxes");
}
