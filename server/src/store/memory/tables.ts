import type { StoredClaim } from "../idempotency-repo.js";
import type { JobEventRecord, JobRecord } from "../jobs-repo.js";
import type { KeyRecord } from "../keys-repo.js";
import type { WebhookEventType } from "../webhook-event.js";
import type { WebhookAttemptRecord, WebhookDeliveryStatus, WebhookEndpointRecord } from "../webhooks-repo.js";
import type { WorkspaceRecord } from "../workspaces-repo.js";

export interface SecretRow {
  keyId: string;
  createdAt: number;
  expiresAt: number | null;
}

export interface IdempotencyRow extends StoredClaim {
  expiresAt: number;
  owner: string | null;
}

export interface WorkspaceRow extends WorkspaceRecord {
  nameScope: string;
}

/** A job as the SQL stores keep it: the record plus its queue position and its sandbox's bytes. */
export interface JobRow extends JobRecord {
  queuedAt: number;
  sandboxBytes: number;
}

export interface EndpointRow extends WebhookEndpointRecord {
  sealedSecret: string;
}

export interface EventRow {
  id: string;
  workspaceId: string;
  type: WebhookEventType;
  createdAt: number;
  body: string;
}

export interface DeliveryRow {
  id: string;
  endpointId: string;
  eventId: string;
  status: WebhookDeliveryStatus;
  attemptCount: number;
  roundAttempts: number;
  nextAttemptAt: number | null;
  claimedUntil: number | null;
  claimToken: string | null;
  createdAt: number;
  attempts: WebhookAttemptRecord[];
}

/**
 * The memory store's "database": plain maps, one per SQL table. Every repository method reads and writes them
 * in one synchronous step (no `await` inside), which JavaScript's single thread makes atomic, as a
 * transaction is in SQLite. Records leave through `structuredClone`, so callers never hold the store's rows.
 */
export class MemoryTables {
  readonly keys = new Map<string, KeyRecord>();
  readonly secrets = new Map<string, SecretRow>();
  /** GCRA theoretical arrival times by key id. */
  readonly rateLimits = new Map<string, number>();
  /** Admitted requests by `${keyId} ${utcDay}`. */
  readonly usageDaily = new Map<string, number>();
  readonly idempotency = new Map<string, IdempotencyRow>();
  readonly workspaces = new Map<string, WorkspaceRow>();
  readonly jobs = new Map<string, JobRow>();
  readonly jobEvents = new Map<string, JobEventRecord[]>();
  readonly endpoints = new Map<string, EndpointRow>();
  readonly webhookEvents = new Map<string, EventRow>();
  readonly deliveries = new Map<string, DeliveryRow>();
  readonly enqueueListeners = new Set<() => void>();
}

/** Rows newest first by id, strictly before `before` (an id; none: from the newest), at most `limit`. */
export function pageByIdDesc<T extends { id: string }>(rows: Iterable<T>, limit: number, before?: string): T[] {
  const page: T[] = [];
  for (const row of rows) if (before === undefined || row.id < before) page.push(row);
  return page.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, Math.max(0, limit));
}

/** Ascending comparison of (number, id) pairs: the order of the SQL stores' `ORDER BY x, id`. */
export function byNumberThenId(a: [number, string], b: [number, string]): number {
  return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
}
