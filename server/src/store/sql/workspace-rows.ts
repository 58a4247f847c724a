import type { WorkspaceRecord } from "../workspaces-repo.js";

// The `workspaces` rows as the SQL stores return them, and their records.

export interface WorkspaceRow {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
  file_count: number;
  size_bytes: number;
}

export const toRecord = (row: WorkspaceRow): WorkspaceRecord => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  fileCount: row.file_count,
  sizeBytes: row.size_bytes,
});
