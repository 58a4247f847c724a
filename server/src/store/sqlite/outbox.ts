import type Database from "better-sqlite3";
import type { WebhookEventInput } from "../webhook-event.js";

/**
 * Writes an event and one pending delivery per matching enabled endpoint of its workspace. Synchronous, so
 * that other repositories call it inside their own transactions (the event commits with the change).
 * Placeholder: the webhooks feature implements it.
 */
export function enqueueWebhookEvent(db: Database.Database, event: WebhookEventInput): void {
  void db;
  void event;
}
