import type Database from "better-sqlite3";
import type { JobRepo } from "../jobs-repo.js";
import type { Migration } from "./migrations.js";

export const jobsMigration: Migration = { version: 3, name: "jobs", sql: "" };

/** Placeholder: the jobs feature implements its repository here. */
export class SqliteJobRepo implements JobRepo {
  constructor(readonly db: Database.Database) {}
}
