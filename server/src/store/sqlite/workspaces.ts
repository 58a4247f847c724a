import type Database from "better-sqlite3";
import type { WorkspaceRepo } from "../workspaces-repo.js";
import type { Migration } from "./migrations.js";

export const workspacesMigration: Migration = { version: 2, name: "workspaces", sql: "" };

/** Placeholder: the workspaces feature implements its repository here. */
export class SqliteWorkspaceRepo implements WorkspaceRepo {
  constructor(readonly db: Database.Database) {}
}
