import { join } from "node:path";

/** Where a workspace's files live: `<dataDir>/workspaces/<workspace_id>`. */
export function workspaceFilesDir(dataDir: string, workspaceId: string): string {
  return join(dataDir, "workspaces", workspaceId);
}
