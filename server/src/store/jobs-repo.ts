import type { components } from "../generated/schema.js";
import type { WebhookEventInput, WebhookEventType } from "./webhook-event.js";

export type JobStatus = components["schemas"]["JobStatus"];
export type JobSpec = components["schemas"]["JobSpec"];
export type JobEventType = components["schemas"]["JobEventBase"]["type"];
/** Why a turn failed: a machine `code` and a message for people (spec schema `JobError`). */
export type JobError = components["schemas"]["JobError"];
export type JobErrorCode = JobError["code"];
export type AgentUsage = components["schemas"]["AgentUsage"];

/** A job as stored. Times are epoch milliseconds. */
export interface JobRecord {
  id: string;
  workspaceId: string | null;
  spec: JobSpec;
  status: JobStatus;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  sandboxId: string | null;
  sessionId: string | null;
  turns: number;
  cleanedUpAt: number | null;
  error: JobError | null;
  /** The agent's final text of the latest turn, and what it cost, when its CLI reported them. */
  result: string | null;
  usage: AgentUsage | null;
  /** The runner of the current turn (`simulated`, `command`, `agents`). */
  runner: string;
  /** The current turn was requested with a `knify_test_` key (counts against the test-mode cap). */
  testMode: boolean;
  /** The replica that claimed the current turn, until it ends. */
  claimedBy: string | null;
  leaseUntil: number | null;
}

/** One entry of a job's event log; `seq` is per job and gapless from 1. */
export interface JobEventRecord {
  jobId: string;
  seq: number;
  type: JobEventType;
  data: Record<string, unknown>;
  createdAt: number;
}

export interface NewJobEvent {
  type: JobEventType;
  data: Record<string, unknown>;
}

/**
 * Builds the webhook event for a job right after a change, inside the store's transaction, so the event
 * commits with the change. Returns null for jobs that belong to no workspace (nobody to notify).
 */
export type JobWebhookFactory = (type: WebhookEventType, job: JobRecord) => WebhookEventInput | null;

export interface NewJob {
  id: string;
  workspaceId: string | null;
  spec: JobSpec;
  runner: string;
  testMode: boolean;
  now: number;
  /**
   * The workspace's disk quota, when the job's sandbox will be a copy of the workspace's files: the copy is
   * reserved (`sandbox_bytes`) in the same transaction that checks it fits. Null: an empty sandbox, nothing
   * to reserve or check.
   */
  sandboxQuotaBytes: number | null;
}

/** A turn request: the next prompt, and the spec and runner it runs with. */
export interface NextTurn {
  spec: JobSpec;
  runner: string;
  testMode: boolean;
  now: number;
}

/** Refused because the workspace already has `active` unfinished test-mode jobs. */
export interface TestModeLimited {
  limited: true;
  active: number;
}

/** Refused because the sandbox copy does not fit in the workspace's disk quota. */
export interface DiskQuotaExceeded {
  overQuota: true;
  usedBytes: number;
  neededBytes: number;
  quotaBytes: number;
}

export type CreateJobResult = { job: JobRecord } | TestModeLimited | DiskQuotaExceeded;

export type ContinueJobResult =
  | { job: JobRecord }
  | TestModeLimited
  /** The job is pending/running (`not_finished`) or its sandbox is gone (`cleaned_up`). */
  | { conflict: "not_finished" | "cleaned_up"; job: JobRecord }
  | null;

/** The cancelled job; `conflict` when it was not pending or running; null when there is no such job. */
export type CancelJobResult = { job: JobRecord } | { conflict: true; job: JobRecord } | null;

export interface CleanupResult {
  job: JobRecord;
  /** The sandbox the job had before this cleanup (null when it had none, or was already cleaned up). */
  sandboxId: string | null;
  /** The job was pending or running, and is now failed. */
  stopped: boolean;
}

/** How a turn ended, as the store keeps it. */
export interface TurnEnd {
  status: "completed" | "failed";
  error: JobError | null;
  result?: string | null;
  usage?: AgentUsage | null;
  now: number;
}

export interface JobListQuery {
  limit: number;
  /** An id: only jobs older than it (keyset pagination, newest first). */
  before?: string;
  workspaceId?: string;
  status?: JobStatus;
}

/** Which turns a replica lost at recovery. */
export interface RecoveryResult {
  failed: string[];
  requeued: string[];
}

/**
 * Jobs, their event logs and their queue. The queue is a column of the job (pending and unclaimed), so
 * several replicas on one database each claim a turn exactly once; a claim is a lease the replica renews.
 */
export interface JobRepo {
  /** Inserts a pending job with its `status` and `turn` events; with `testModeLimit`, refuses past the cap. */
  create(job: NewJob, testModeLimit: number | null, webhook: JobWebhookFactory): Promise<CreateJobResult>;
  get(id: string): Promise<JobRecord | null>;
  list(query: JobListQuery): Promise<JobRecord[]>;
  /** Queues the next turn of a completed or failed job that still has its sandbox. */
  continue(
    id: string,
    turn: NextTurn,
    testModeLimit: number | null,
    webhook: JobWebhookFactory,
  ): Promise<ContinueJobResult>;
  /** Atomically claims the oldest queued turn for `runner`; null when there is none. */
  claimNext(runner: string, replicaId: string, now: number, leaseMs: number): Promise<JobRecord | null>;
  /**
   * pending → running for a turn this replica claimed; null when it was cleaned up (or lost) meanwhile.
   * `sessionId` is kept only when the job has none yet (null: the agent will report its own).
   */
  markRunning(
    id: string,
    replicaId: string,
    run: { sandboxId: string; sessionId: string | null; now: number },
    webhook: JobWebhookFactory,
  ): Promise<JobRecord | null>;
  /** Ends this replica's turn; null when the job is no longer this replica's (cleaned up meanwhile). */
  finish(id: string, replicaId: string, outcome: TurnEnd, webhook: JobWebhookFactory): Promise<JobRecord | null>;
  /** Gives a claimed, still pending turn back to the queue. */
  release(id: string, replicaId: string): Promise<void>;
  appendEvents(id: string, events: NewJobEvent[], now: number): Promise<void>;
  setSession(id: string, sessionId: string): Promise<void>;
  /** Whether a job carries this agent session: any job (`null`), or one of this workspace. */
  hasSession(sessionId: string, workspaceId: string | null): Promise<boolean>;
  /**
   * Fails a pending or running turn ("cleaned up while running"), deletes the sandbox reference. Idempotent.
   * With `idleSince`, only a finished job whose last turn ended at or before it is cleaned (the TTL sweep);
   * otherwise null, as for a missing job.
   */
  cleanup(id: string, now: number, webhook: JobWebhookFactory, idleSince?: number): Promise<CleanupResult | null>;
  /**
   * Fails a pending or running turn with `error.code` `cancelled` (and `job.failed`), keeping the sandbox so
   * the job can be continued. The runner, if any, is stopped by the caller.
   */
  cancel(id: string, now: number, webhook: JobWebhookFactory): Promise<CancelJobResult>;
  /** Events with `seq > after`, in order. */
  events(id: string, after: number, limit: number): Promise<JobEventRecord[]>;
  /** Extends the leases of this replica's turns; returns the ids it still holds. */
  renewLeases(replicaId: string, now: number, leaseMs: number): Promise<string[]>;
  /**
   * After a crash: fails the running turns of `replicaId` (and of any replica whose lease expired; with
   * null, only those) with `message`, and requeues their claimed, still pending turns.
   */
  recover(replicaId: string | null, now: number, message: string, webhook: JobWebhookFactory): Promise<RecoveryResult>;
}
