import type Database from "better-sqlite3";
import { newId } from "../../ids.js";
import { envelopeBody } from "../envelope.js";
import type { WebhookEventInput } from "../webhook-event.js";

interface OutboxStatements {
  matching: Database.Statement;
  insertEvent: Database.Statement;
  insertDelivery: Database.Statement;
}

// Statements are prepared once per database; callers pass only `db`, so they are cached beside it.
const statements = new WeakMap<Database.Database, OutboxStatements>();
const listeners = new WeakMap<Database.Database, Set<() => void>>();

function prepared(db: Database.Database): OutboxStatements {
  let cached = statements.get(db);
  if (!cached) {
    cached = {
      matching: db.prepare(
        `SELECT id FROM webhook_endpoints
         WHERE workspace_id = @workspace AND enabled = 1
           AND (event_types = '[]' OR EXISTS (SELECT 1 FROM json_each(event_types) WHERE value = @type))`,
      ),
      insertEvent: db.prepare(
        "INSERT INTO webhook_events (id, workspace_id, type, created_at, body) VALUES (@id, @workspace, @type, @created_at, @body)",
      ),
      insertDelivery: db.prepare(
        `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, attempt_count, round_attempts, next_attempt_at, created_at)
         VALUES (@id, @endpoint, @event, 'pending', 0, 0, @due, @created_at)`,
      ),
    };
    statements.set(db, cached);
  }
  return cached;
}

/** Inserts the event row and one pending delivery per endpoint id (sync; the caller holds the transaction). */
export function insertEventWithDeliveries(
  db: Database.Database,
  event: WebhookEventInput,
  endpointIds: readonly string[],
): string[] {
  if (endpointIds.length === 0) return [];
  const s = prepared(db);
  s.insertEvent.run({
    id: event.id,
    workspace: event.workspaceId,
    type: event.type,
    created_at: event.createdAt,
    body: envelopeBody(event),
  });
  const ids = endpointIds.map((endpoint) => {
    const id = newId("dlv");
    s.insertDelivery.run({ id, endpoint, event: event.id, due: event.createdAt, created_at: event.createdAt });
    return id;
  });
  wakeWebhookWorkers(db);
  return ids;
}

/**
 * Writes an event and one pending delivery per matching enabled endpoint of its workspace. Synchronous, so
 * that other repositories call it inside their own transactions (the event commits with the change).
 * An event that no endpoint wants is not stored at all.
 */
export function enqueueWebhookEvent(db: Database.Database, event: WebhookEventInput): void {
  enqueueToMatchingEndpoints(db, event);
}

/** {@link enqueueWebhookEvent}, returning the ids of the deliveries it queued. */
export function enqueueToMatchingEndpoints(db: Database.Database, event: WebhookEventInput): string[] {
  const rows = prepared(db).matching.all({ workspace: event.workspaceId, type: event.type }) as { id: string }[];
  return insertEventWithDeliveries(
    db,
    event,
    rows.map((r) => r.id),
  );
}

/** Subscribes to "a delivery was queued on this database"; returns the unsubscribe function. */
export function onWebhookEnqueued(db: Database.Database, listener: () => void): () => void {
  let set = listeners.get(db);
  if (!set) {
    set = new Set();
    listeners.set(db, set);
  }
  set.add(listener);
  return () => set.delete(listener);
}

/** Tells this process's subscribers (the delivery worker) that a delivery became due. */
export function wakeWebhookWorkers(db: Database.Database): void {
  const set = listeners.get(db);
  if (!set || set.size === 0) return;
  // better-sqlite3 transactions are synchronous, so by the time this runs the caller's transaction has
  // committed (or rolled back, and the worker finds nothing): a worker never sees an uncommitted event.
  setImmediate(() => {
    for (const listener of set) listener();
  });
}
