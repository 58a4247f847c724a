import type Database from "better-sqlite3";
import type { WebhookRepo } from "../webhooks-repo.js";
import type { Migration } from "./migrations.js";

export const webhooksMigration: Migration = { version: 4, name: "webhooks", sql: "" };

/** Placeholder: the webhooks feature implements its repository here. */
export class SqliteWebhookRepo implements WebhookRepo {
  constructor(readonly db: Database.Database) {}
}
