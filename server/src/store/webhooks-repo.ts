import type { PageQuery } from "./page.js";
import type { WebhookEventInput, WebhookEventType } from "./webhook-event.js";

/** A webhook endpoint without its secret. Times are epoch milliseconds. */
export interface WebhookEndpointRecord {
  id: string;
  workspaceId: string;
  url: string;
  /** Empty means every event type. */
  eventTypes: WebhookEventType[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: number;
}

/**
 * A new endpoint. The store keeps `sealedSecret` as an opaque string: it is encrypted before it gets here
 * (see `webhooks/secret-box.ts`), because the secret must stay usable for signing and so cannot be hashed.
 */
export interface NewWebhookEndpoint extends Omit<WebhookEndpointRecord, "enabled" | "disabledReason"> {
  sealedSecret: string;
}

/** What `PATCH /webhook-endpoints/{endpoint_id}` may change; absent fields keep their value. */
export interface WebhookEndpointChanges {
  url?: string;
  eventTypes?: WebhookEventType[];
  description?: string | null;
  enabled?: { enabled: true } | { enabled: false; reason: string };
}

export type WebhookDeliveryStatus = "pending" | "succeeded" | "failed";

/** One HTTP attempt of a delivery. `statusCode` is null when no response came (refused, timed out, …). */
export interface WebhookAttemptRecord {
  at: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** One event owed to one endpoint, with every attempt made so far (oldest first). */
export interface WebhookDeliveryRecord {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: WebhookEventType;
  status: WebhookDeliveryStatus;
  attemptCount: number;
  nextAttemptAt: number | null;
  createdAt: number;
  attempts: WebhookAttemptRecord[];
}

/** A due delivery leased to one worker until `claimedUntil`, with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  /** Proves the lease when the result is recorded; a redelivery or another replica's claim replaces it. */
  claimToken: string;
  eventId: string;
  /** The exact envelope bytes (UTF-8 JSON), identical on every attempt and redelivery. */
  body: string;
  /** Failed attempts since the delivery was (re)queued: the position in the retry schedule. */
  roundAttempts: number;
  endpointId: string;
  url: string;
  sealedSecret: string;
}

/** What to do with a delivery after an attempt. */
export type AttemptOutcome =
  | { next: "succeeded" }
  | { next: "retry"; at: number }
  | { next: "failed"; disableEndpoint?: string };

/**
 * Webhook endpoints and the durable outbox: events are written with the change that caused them
 * (`enqueueWebhookEvent` in the SQLite store), and a worker claims due deliveries with a lease, so that
 * several replicas on one database send each attempt once and a crash only delays a delivery.
 */
/** Why an endpoint was not created: its workspace has the most it may, or already sends to this URL. */
export type EndpointRefusal = { refused: "limit"; count: number } | { refused: "duplicate"; existingId: string };

/** How much of the delivery capacity one workspace, and one endpoint, may hold at once (across replicas). */
export interface DeliveryFairness {
  perWorkspace: number;
  perEndpoint: number;
}

export interface WebhookRepo {
  /**
   * Creates the endpoint unless its workspace already has `maxPerWorkspace` endpoints or one with the same
   * URL (compared as parsed, so `HTTPS://Host:443/x` is `https://host/x`). Check and insert are atomic.
   */
  createEndpoint(
    endpoint: NewWebhookEndpoint,
    maxPerWorkspace: number,
  ): Promise<WebhookEndpointRecord | EndpointRefusal>;
  getEndpoint(id: string): Promise<WebhookEndpointRecord | null>;
  /** Newest first; only `workspaceId`'s endpoints when given. */
  listEndpoints(page: PageQuery & { workspaceId?: string }): Promise<WebhookEndpointRecord[]>;
  /**
   * Changes an endpoint in place; null when there is none. `enabled: true` also clears `disabledReason`;
   * `enabled: false` records `disabledReason` and fails the endpoint's pending deliveries, as a 410 does.
   * A new `url` that another endpoint of the workspace already has is refused, as at creation.
   */
  updateEndpoint(
    id: string,
    changes: WebhookEndpointChanges,
  ): Promise<WebhookEndpointRecord | Extract<EndpointRefusal, { refused: "duplicate" }> | null>;
  /** Deletes the endpoint and drops its deliveries; false when there was none. */
  deleteEndpoint(id: string): Promise<boolean>;

  /**
   * Writes an event and one delivery per enabled endpoint of its workspace that wants its type, in one
   * transaction; returns how many deliveries were queued. Features that change state call
   * `enqueueWebhookEvent` inside their own transaction instead; this is for events that stand alone.
   */
  enqueue(event: WebhookEventInput): Promise<number>;
  /** Queues an event (a `webhook.test`) for this one endpoint, enabled or not; null when there is no endpoint. */
  enqueueFor(endpointId: string, event: WebhookEventInput): Promise<WebhookDeliveryRecord | null>;
  /** Calls `listener` (asynchronously, after the writing transaction ended) whenever a delivery is queued. */
  onEnqueued(listener: () => void): () => void;

  getDelivery(endpointId: string, deliveryId: string): Promise<WebhookDeliveryRecord | null>;
  /** Newest first, each with its attempts. */
  listDeliveries(endpointId: string, page: PageQuery): Promise<WebhookDeliveryRecord[]>;
  /** Queues the delivery again, due `now`, whatever its status, restarting its retry schedule. */
  redeliver(endpointId: string, deliveryId: string, now: number): Promise<WebhookDeliveryRecord | null>;

  /**
   * Leases up to `limit` pending deliveries due at `now` (and not leased by anyone) until `now + leaseMs`,
   * fairly: never more leased at once than `fairness` allows per workspace and per endpoint (counting every
   * replica's live leases), and round-robin over workspaces (each one's oldest due first, then each one's next).
   */
  claimDue(now: number, limit: number, leaseMs: number, fairness: DeliveryFairness): Promise<ClaimedDelivery[]>;
  /**
   * Records an attempt. The outcome applies only while the claim still holds; otherwise (redelivered,
   * endpoint disabled, lease taken over) the attempt is only logged. `failed` with `disableEndpoint`
   * disables the endpoint with that reason and fails its other pending deliveries.
   */
  recordAttempt(
    claim: { id: string; claimToken: string },
    attempt: WebhookAttemptRecord,
    outcome: AttemptOutcome,
  ): Promise<void>;
  /** Gives a lease back without an attempt (on shutdown), so the delivery is due again at once. */
  release(claim: { id: string; claimToken: string }): Promise<void>;
}
