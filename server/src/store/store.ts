import type { IdempotencyRepo } from "./idempotency-repo.js";
import type { JobRepo } from "./jobs-repo.js";
import type { KeyRepo } from "./keys-repo.js";
import type { RequestRepo } from "./requests-repo.js";
import type { SandboxRepo } from "./sandboxes-repo.js";
import type { WebhookRepo } from "./webhooks-repo.js";
import type { WorkspaceRepo } from "./workspaces-repo.js";

// Each feature's repository interface lives in `store/<feature>-repo.ts`, one uniform place; this file
// only assembles them (and re-exports the types other folders have always imported from here).
export type { ClaimLease, IdempotencyRecord, IdempotencyRepo } from "./idempotency-repo.js";
export type { AuthenticatedKey, KeyChanges, KeyRecord, KeyRepo, KeyType, NewKey } from "./keys-repo.js";
export type { PageQuery } from "./page.js";
export type { Admission, DayCount, RequestRepo, Usage } from "./requests-repo.js";

/**
 * Everything the server persists goes through this interface; nothing outside `store/` knows SQL.
 * Every method is one atomic unit (one transaction in SQLite and PostgreSQL, one synchronous step in the
 * memory store), so a crash never leaves half a write, and every method is async so that a networked store
 * can implement it. The rate limiter, usage counters and idempotency records live here too, not in process
 * memory, so that several replicas on one database stay exact.
 */
export interface Store {
  readonly keys: KeyRepo;
  readonly requests: RequestRepo;
  readonly idempotency: IdempotencyRepo;
  readonly workspaces: WorkspaceRepo;
  readonly jobs: JobRepo;
  readonly webhooks: WebhookRepo;
  readonly sandboxes: SandboxRepo;
  /**
   * What other processes sharing the database commit, as they commit (PostgreSQL LISTEN/NOTIFY): a wake-up,
   * never the data. Absent where this process is the only writer (memory, SQLite): its own notifier knows.
   */
  readonly feed?: ChangeFeed;
  /** Resolves when the store can serve (database reachable, schema migrated); rejects saying why not. */
  ready(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Cross-process change notifications (see {@link Store.feed}). */
export interface ChangeFeed {
  /** Job `jobId` changed (events or status); `queued` when a turn became claimable. Returns the unsubscribe. */
  onJob(listener: (jobId: string, queued: boolean) => void): () => void;
}
