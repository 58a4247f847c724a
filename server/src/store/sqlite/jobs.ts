import type Database from "better-sqlite3";
import { deepFreeze } from "../../frozen.js";
import {
  CANCELLED_ERROR,
  CLEANED_UP_ERROR,
  cleanupEvent,
  isFinished,
  sandboxReservation,
  statusEvent,
  stillIdle,
  turnError,
  turnEvent,
} from "../job-rules.js";
import type {
  CancelJobResult,
  CleanupResult,
  ContinueJobResult,
  CreateJobResult,
  JobError,
  JobEventRecord,
  JobListQuery,
  JobRecord,
  JobRepo,
  JobWebhookFactory,
  NewJob,
  NewJobEvent,
  NextTurn,
  RecoveryResult,
  TurnEnd,
} from "../jobs-repo.js";
import { type EventRow, type JobRow, toEvent, toRecord } from "../sql/job-rows.js";
import type { WebhookEventType } from "../webhook-event.js";
import { prepareJobStatements } from "./job-statements.js";
import { enqueueWebhookEvent } from "./outbox.js";
import { diskUsage } from "./sandboxes.js";

/** Most job records the serving store keeps (a poll of many jobs cannot grow memory past it). */
export const JOB_CACHE_ENTRIES = 10_000;

/** The SQLite job repository: every method is one IMMEDIATE transaction, so replicas never interleave. */
export class SqliteJobRepo implements JobRepo {
  private readonly s;
  /**
   * Serving alone (the server holds the file's serve lock, so no other connection writes jobs): job records
   * by id, frozen, for `get` — the read every status poll makes (issue 11). Any write of the jobs table
   * through this repository empties it, before and after the statement, and records are kept only when read
   * outside a transaction, so the cache never holds a row a rollback could undo. Null in shared mode.
   */
  private readonly cache: Map<string, JobRecord> | null;

  constructor(
    private readonly db: Database.Database,
    serve = false,
  ) {
    this.cache = serve ? new Map() : null;
    const cache = this.cache;
    this.s = prepareJobStatements(db, cache ? () => cache.clear() : undefined);
  }

  async create(job: NewJob, testModeLimit: number | null, webhook: JobWebhookFactory): Promise<CreateJobResult> {
    return this.db
      .transaction((): CreateJobResult => {
        if (job.testMode && testModeLimit !== null) {
          const active = this.activeTestJobs(job.workspaceId, job.id);
          if (active >= testModeLimit) return { limited: true, active };
        }
        let reserved = 0;
        if (job.sandboxQuotaBytes !== null && job.workspaceId !== null) {
          const reservation = sandboxReservation(diskUsage(this.db, job.workspaceId), job.sandboxQuotaBytes);
          if ("overQuota" in reservation) return reservation;
          reserved = reservation.reserved;
        }
        this.s.insert.run({
          id: job.id,
          workspace_id: job.workspaceId,
          spec: JSON.stringify(job.spec),
          runner: job.runner,
          test_mode: job.testMode ? 1 : 0,
          now: job.now,
        });
        if (reserved > 0) this.s.reserve.run(reserved, job.id);
        this.append(job.id, job.now, [statusEvent("pending", null), turnEvent(1, job.spec)]);
        return { job: this.notify(job.id, "job.created", webhook) };
      })
      .immediate();
  }

  async get(id: string): Promise<JobRecord | null> {
    const cached = this.cache?.get(id);
    if (cached) return cached;
    const row = this.s.byId.get(id) as JobRow | undefined;
    if (!row) return null;
    const record = toRecord(row);
    if (!this.cache || this.db.inTransaction) return record;
    if (this.cache.size >= JOB_CACHE_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    // Frozen: every caller shares the object, so a caller that changed it would fail loudly, not silently.
    this.cache.set(id, deepFreeze(record));
    return record;
  }

  async list({ limit, before, workspaceId, status }: JobListQuery): Promise<JobRecord[]> {
    const args = { before: before ?? "~", limit, workspace: workspaceId ?? null, status: status ?? null };
    const statement =
      workspaceId === undefined
        ? status === undefined
          ? this.s.listAll
          : this.s.listStatus
        : status === undefined
          ? this.s.listWorkspace
          : this.s.listWorkspaceStatus;
    return (statement.all(args) as JobRow[]).map(toRecord);
  }

  async continue(
    id: string,
    turn: NextTurn,
    testModeLimit: number | null,
    webhook: JobWebhookFactory,
  ): Promise<ContinueJobResult> {
    return this.db
      .transaction((): ContinueJobResult => {
        const current = this.row(id);
        if (!current) return null;
        if (current.cleanedUpAt !== null) return { conflict: "cleaned_up", job: current };
        if (!isFinished(current.status)) return { conflict: "not_finished", job: current };
        if (turn.testMode && testModeLimit !== null) {
          const active = this.activeTestJobs(current.workspaceId, id);
          if (active >= testModeLimit) return { limited: true, active };
        }
        this.s.requeue.run({
          id,
          spec: JSON.stringify(turn.spec),
          runner: turn.runner,
          test_mode: turn.testMode ? 1 : 0,
          now: turn.now,
        });
        this.append(id, turn.now, [statusEvent("pending", null), turnEvent(current.turns + 1, turn.spec)]);
        return { job: this.notify(id, "job.continued", webhook) };
      })
      .immediate();
  }

  async claimNext(runner: string, replicaId: string, now: number, leaseMs: number): Promise<JobRecord | null> {
    const row = this.db
      .transaction(() => this.s.claim.get({ runner, replica: replicaId, lease: now + leaseMs }) as JobRow | undefined)
      .immediate();
    return row ? toRecord(row) : null;
  }

  async markRunning(
    id: string,
    replicaId: string,
    run: { sandboxId: string; sessionId: string | null; now: number },
    webhook: JobWebhookFactory,
  ): Promise<JobRecord | null> {
    return this.db
      .transaction(() => {
        const changed = this.s.running.run({
          id,
          replica: replicaId,
          now: run.now,
          sandbox: run.sandboxId,
          session: run.sessionId,
        }).changes;
        if (changed === 0) return null;
        this.append(id, run.now, [statusEvent("running", null)]);
        return this.notify(id, "job.running", webhook);
      })
      .immediate();
  }

  async finish(id: string, replicaId: string, outcome: TurnEnd, webhook: JobWebhookFactory): Promise<JobRecord | null> {
    return this.db
      .transaction(() => {
        const error = turnError(outcome);
        const changed = this.s.finish.run({
          id,
          replica: replicaId,
          status: outcome.status,
          error: error?.message ?? null,
          code: error?.code ?? null,
          result: outcome.result ?? null,
          usage: outcome.usage ? JSON.stringify(outcome.usage) : null,
          now: outcome.now,
        }).changes;
        if (changed === 0) return null;
        this.append(id, outcome.now, [statusEvent(outcome.status, error)]);
        return this.notify(id, outcome.status === "failed" ? "job.failed" : "job.completed", webhook);
      })
      .immediate();
  }

  async release(id: string, replicaId: string): Promise<void> {
    this.s.release.run(id, replicaId);
  }

  async appendEvents(id: string, events: NewJobEvent[], now: number): Promise<void> {
    if (events.length === 0) return;
    this.db.transaction(() => this.append(id, now, events)).immediate();
  }

  async setSession(id: string, sessionId: string): Promise<void> {
    this.s.setSession.run(sessionId, id);
  }

  async hasSession(sessionId: string, workspaceId: string | null): Promise<boolean> {
    const row =
      workspaceId === null ? this.s.sessionAnywhere.get(sessionId) : this.s.sessionIn.get(sessionId, workspaceId);
    return row !== undefined;
  }

  async cleanup(
    id: string,
    now: number,
    webhook: JobWebhookFactory,
    idleSince?: number,
  ): Promise<CleanupResult | null> {
    return this.db
      .transaction((): CleanupResult | null => {
        const current = this.row(id);
        if (!current) return null;
        // The TTL sweep read this job a moment ago; it may have been continued or cleaned since.
        if (idleSince !== undefined && !stillIdle(current, idleSince)) return null;
        if (current.cleanedUpAt !== null) return { job: current, sandboxId: null, stopped: false };
        const error = CLEANED_UP_ERROR;
        const stopped = this.s.stop.run({ id, error: error.message, code: error.code, now }).changes > 0;
        if (stopped) {
          this.append(id, now, [statusEvent("failed", error)]);
          this.notify(id, "job.failed", webhook);
        }
        this.s.markCleaned.run({ id, now });
        this.append(id, now, [cleanupEvent(idleSince)]);
        return { job: this.notify(id, "job.cleaned_up", webhook), sandboxId: current.sandboxId, stopped };
      })
      .immediate();
  }

  async cancel(id: string, now: number, webhook: JobWebhookFactory): Promise<CancelJobResult> {
    return this.db
      .transaction((): CancelJobResult => {
        const current = this.row(id);
        if (!current) return null;
        const error = CANCELLED_ERROR;
        if (this.s.stop.run({ id, error: error.message, code: error.code, now }).changes === 0) {
          return { conflict: true, job: current };
        }
        this.append(id, now, [statusEvent("failed", error)]);
        return { job: this.notify(id, "job.failed", webhook) };
      })
      .immediate();
  }

  async events(id: string, after: number, limit: number): Promise<JobEventRecord[]> {
    return (this.s.events.all(id, after, limit) as EventRow[]).map(toEvent);
  }

  async renewLeases(replicaId: string, now: number, leaseMs: number): Promise<string[]> {
    const rows = this.s.renew.all({ replica: replicaId, lease: now + leaseMs }) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async recover(
    replicaId: string | null,
    now: number,
    message: string,
    webhook: JobWebhookFactory,
  ): Promise<RecoveryResult> {
    return this.db
      .transaction((): RecoveryResult => {
        const result: RecoveryResult = { failed: [], requeued: [] };
        for (const row of this.s.lost.all({ replica: replicaId, now }) as JobRow[]) {
          if (row.status === "pending") {
            this.s.release.run(row.id, row.claimed_by);
            result.requeued.push(row.id);
            continue;
          }
          this.s.stop.run({ id: row.id, error: message, code: "interrupted", now });
          const error: JobError = { code: "interrupted", message };
          this.append(row.id, now, [{ type: "system", data: { message } }, statusEvent("failed", error)]);
          this.notify(row.id, "job.failed", webhook);
          result.failed.push(row.id);
        }
        return result;
      })
      .immediate();
  }

  private row(id: string): JobRecord | null {
    const row = this.s.byId.get(id) as JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  private activeTestJobs(workspaceId: string | null, exceptId: string): number {
    return (this.s.activeTestJobs.get({ workspace: workspaceId, id: exceptId }) as { n: number }).n;
  }

  /** Appends events with the next gapless seqs; call inside a transaction. */
  private append(id: string, now: number, events: NewJobEvent[]): void {
    let seq = (this.s.lastSeq.get(id) as { seq: number }).seq;
    for (const event of events) {
      seq += 1;
      this.s.insertEvent.run(id, seq, event.type, JSON.stringify(event.data), now);
    }
  }

  /** Reads the changed job and writes its webhook event in the same transaction. */
  private notify(id: string, type: WebhookEventType, webhook: JobWebhookFactory): JobRecord {
    const job = this.row(id);
    if (!job) throw new Error(`job ${id} vanished inside its own transaction`);
    const event = webhook(type, job);
    if (event) enqueueWebhookEvent(this.db, event);
    return job;
  }
}
