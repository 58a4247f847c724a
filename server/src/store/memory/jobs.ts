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
import type { WebhookEventType } from "../webhook-event.js";
import { enqueueWebhookEvent } from "./outbox.js";
import { diskUsage } from "./sandboxes.js";
import { byNumberThenId, type JobRow, type MemoryTables, pageByIdDesc } from "./tables.js";

const toRecord = ({ queuedAt: _q, sandboxBytes: _b, ...job }: JobRow): JobRecord => structuredClone(job);
const active = (job: JobRow) => job.status === "pending" || job.status === "running";

/** Jobs, their event logs and their queue, in memory; each method is one synchronous (atomic) step. */
export class MemoryJobRepo implements JobRepo {
  constructor(private readonly t: MemoryTables) {}

  async create(job: NewJob, testModeLimit: number | null, webhook: JobWebhookFactory): Promise<CreateJobResult> {
    if (job.testMode && testModeLimit !== null) {
      const running = this.activeTestJobs(job.workspaceId, job.id);
      if (running >= testModeLimit) return { limited: true, active: running };
    }
    let reserved = 0;
    if (job.sandboxQuotaBytes !== null && job.workspaceId !== null) {
      const reservation = sandboxReservation(diskUsage(this.t, job.workspaceId), job.sandboxQuotaBytes);
      if ("overQuota" in reservation) return reservation;
      reserved = reservation.reserved;
    }
    this.t.jobs.set(job.id, {
      id: job.id,
      workspaceId: job.workspaceId,
      spec: structuredClone(job.spec),
      status: "pending",
      createdAt: job.now,
      startedAt: null,
      completedAt: null,
      sandboxId: null,
      sessionId: null,
      turns: 1,
      cleanedUpAt: null,
      error: null,
      result: null,
      usage: null,
      runner: job.runner,
      testMode: job.testMode,
      claimedBy: null,
      leaseUntil: null,
      queuedAt: job.now,
      sandboxBytes: reserved,
    });
    this.t.jobEvents.set(job.id, []);
    this.append(job.id, job.now, [statusEvent("pending", null), turnEvent(1, job.spec)]);
    return { job: this.notify(job.id, "job.created", webhook) };
  }

  async get(id: string): Promise<JobRecord | null> {
    const row = this.t.jobs.get(id);
    return row ? toRecord(row) : null;
  }

  async list({ limit, before, workspaceId, status }: JobListQuery): Promise<JobRecord[]> {
    const rows = [...this.t.jobs.values()].filter(
      (j) =>
        (workspaceId === undefined || j.workspaceId === workspaceId) && (status === undefined || j.status === status),
    );
    return pageByIdDesc(rows, limit, before).map(toRecord);
  }

  async continue(
    id: string,
    turn: NextTurn,
    testModeLimit: number | null,
    webhook: JobWebhookFactory,
  ): Promise<ContinueJobResult> {
    const row = this.t.jobs.get(id);
    if (!row) return null;
    if (row.cleanedUpAt !== null) return { conflict: "cleaned_up", job: toRecord(row) };
    if (!isFinished(row.status)) return { conflict: "not_finished", job: toRecord(row) };
    if (turn.testMode && testModeLimit !== null) {
      const running = this.activeTestJobs(row.workspaceId, id);
      if (running >= testModeLimit) return { limited: true, active: running };
    }
    Object.assign(row, {
      status: "pending",
      spec: structuredClone(turn.spec),
      turns: row.turns + 1,
      error: null,
      result: null,
      usage: null,
      startedAt: null,
      completedAt: null,
      runner: turn.runner,
      testMode: turn.testMode,
      queuedAt: turn.now,
      claimedBy: null,
      leaseUntil: null,
    });
    this.append(id, turn.now, [statusEvent("pending", null), turnEvent(row.turns, turn.spec)]);
    return { job: this.notify(id, "job.continued", webhook) };
  }

  async claimNext(runner: string, replicaId: string, now: number, leaseMs: number): Promise<JobRecord | null> {
    let next: JobRow | undefined;
    for (const job of this.t.jobs.values()) {
      if (job.runner !== runner || job.status !== "pending" || job.claimedBy !== null) continue;
      if (!next || byNumberThenId([job.queuedAt, job.id], [next.queuedAt, next.id]) < 0) next = job;
    }
    if (!next) return null;
    next.claimedBy = replicaId;
    next.leaseUntil = now + leaseMs;
    return toRecord(next);
  }

  async markRunning(
    id: string,
    replicaId: string,
    run: { sandboxId: string; sessionId: string | null; now: number },
    webhook: JobWebhookFactory,
  ): Promise<JobRecord | null> {
    const row = this.t.jobs.get(id);
    if (row?.status !== "pending" || row.claimedBy !== replicaId || row.cleanedUpAt !== null) return null;
    Object.assign(row, {
      status: "running",
      startedAt: run.now,
      sandboxId: run.sandboxId,
      sessionId: row.sessionId ?? run.sessionId,
    });
    this.append(id, run.now, [statusEvent("running", null)]);
    return this.notify(id, "job.running", webhook);
  }

  async finish(id: string, replicaId: string, outcome: TurnEnd, webhook: JobWebhookFactory): Promise<JobRecord | null> {
    const row = this.t.jobs.get(id);
    if (!row || !active(row) || row.claimedBy !== replicaId) return null;
    const error = turnError(outcome);
    Object.assign(row, {
      status: outcome.status,
      error,
      result: outcome.result ?? null,
      usage: outcome.usage ? structuredClone(outcome.usage) : null,
      completedAt: outcome.now,
      claimedBy: null,
      leaseUntil: null,
    });
    this.append(id, outcome.now, [statusEvent(outcome.status, error)]);
    return this.notify(id, outcome.status === "failed" ? "job.failed" : "job.completed", webhook);
  }

  async release(id: string, replicaId: string): Promise<void> {
    const row = this.t.jobs.get(id);
    if (row && row.status === "pending" && row.claimedBy === replicaId) {
      row.claimedBy = null;
      row.leaseUntil = null;
    }
  }

  async appendEvents(id: string, events: NewJobEvent[], now: number): Promise<void> {
    if (this.t.jobs.has(id)) this.append(id, now, events);
  }

  async setSession(id: string, sessionId: string): Promise<void> {
    const row = this.t.jobs.get(id);
    if (row) row.sessionId = sessionId;
  }

  async hasSession(sessionId: string, workspaceId: string | null): Promise<boolean> {
    for (const job of this.t.jobs.values()) {
      if (job.sessionId === sessionId && (workspaceId === null || job.workspaceId === workspaceId)) return true;
    }
    return false;
  }

  async cleanup(
    id: string,
    now: number,
    webhook: JobWebhookFactory,
    idleSince?: number,
  ): Promise<CleanupResult | null> {
    const row = this.t.jobs.get(id);
    if (!row) return null;
    // The TTL sweep read this job a moment ago; it may have been continued or cleaned since.
    if (idleSince !== undefined && !stillIdle(row, idleSince)) return null;
    if (row.cleanedUpAt !== null) return { job: toRecord(row), sandboxId: null, stopped: false };
    const sandboxId = row.sandboxId;
    const stopped = this.stop(row, CLEANED_UP_ERROR, now);
    if (stopped) {
      this.append(id, now, [statusEvent("failed", CLEANED_UP_ERROR)]);
      this.notify(id, "job.failed", webhook);
    }
    Object.assign(row, { cleanedUpAt: now, sandboxId: null, sandboxBytes: 0 });
    this.append(id, now, [cleanupEvent(idleSince)]);
    return { job: this.notify(id, "job.cleaned_up", webhook), sandboxId, stopped };
  }

  async cancel(id: string, now: number, webhook: JobWebhookFactory): Promise<CancelJobResult> {
    const row = this.t.jobs.get(id);
    if (!row) return null;
    if (!this.stop(row, CANCELLED_ERROR, now)) return { conflict: true, job: toRecord(row) };
    this.append(id, now, [statusEvent("failed", CANCELLED_ERROR)]);
    return { job: this.notify(id, "job.failed", webhook) };
  }

  async events(id: string, after: number, limit: number): Promise<JobEventRecord[]> {
    const events = this.t.jobEvents.get(id) ?? [];
    return structuredClone(events.filter((e) => e.seq > after).slice(0, Math.max(0, limit)));
  }

  async renewLeases(replicaId: string, now: number, leaseMs: number): Promise<string[]> {
    const held: string[] = [];
    for (const job of this.t.jobs.values()) {
      if (job.claimedBy !== replicaId || !active(job)) continue;
      job.leaseUntil = now + leaseMs;
      held.push(job.id);
    }
    return held;
  }

  async recover(
    replicaId: string | null,
    now: number,
    message: string,
    webhook: JobWebhookFactory,
  ): Promise<RecoveryResult> {
    const result: RecoveryResult = { failed: [], requeued: [] };
    for (const job of this.t.jobs.values()) {
      if (job.claimedBy === null || !active(job)) continue;
      if (job.claimedBy !== replicaId && !(job.leaseUntil !== null && job.leaseUntil < now)) continue;
      if (job.status === "pending") {
        job.claimedBy = null;
        job.leaseUntil = null;
        result.requeued.push(job.id);
        continue;
      }
      const error: JobError = { code: "interrupted", message };
      this.stop(job, error, now);
      this.append(job.id, now, [{ type: "system", data: { message } }, statusEvent("failed", error)]);
      this.notify(job.id, "job.failed", webhook);
      result.failed.push(job.id);
    }
    return result;
  }

  /** Fails a pending or running turn with `error`; false when the job was neither. */
  private stop(row: JobRow, error: JobError, now: number): boolean {
    if (!active(row)) return false;
    Object.assign(row, { status: "failed", error, completedAt: now, claimedBy: null, leaseUntil: null });
    return true;
  }

  private activeTestJobs(workspaceId: string | null, exceptId: string): number {
    let n = 0;
    for (const job of this.t.jobs.values()) {
      if (job.workspaceId === workspaceId && active(job) && job.testMode && job.id !== exceptId) n++;
    }
    return n;
  }

  /** Appends events with the next gapless seqs. */
  private append(id: string, now: number, events: NewJobEvent[]): void {
    let log = this.t.jobEvents.get(id);
    if (!log) {
      log = [];
      this.t.jobEvents.set(id, log);
    }
    for (const event of events) {
      log.push({ jobId: id, seq: log.length + 1, type: event.type, data: structuredClone(event.data), createdAt: now });
    }
  }

  /** Reads the changed job and queues its webhook event in the same step. */
  private notify(id: string, type: WebhookEventType, webhook: JobWebhookFactory): JobRecord {
    const row = this.t.jobs.get(id);
    if (!row) throw new Error(`job ${id} vanished inside its own step`);
    const job = toRecord(row);
    const event = webhook(type, job);
    if (event) enqueueWebhookEvent(this.t, event);
    return job;
  }
}
