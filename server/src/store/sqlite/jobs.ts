import type Database from "better-sqlite3";
import type {
  CancelJobResult,
  CleanupResult,
  ContinueJobResult,
  CreateJobResult,
  JobError,
  JobErrorCode,
  JobEventRecord,
  JobListQuery,
  JobRecord,
  JobRepo,
  JobSpec,
  JobStatus,
  JobWebhookFactory,
  NewJob,
  NewJobEvent,
  NextTurn,
  RecoveryResult,
} from "../jobs-repo.js";
import type { WebhookEventType } from "../webhook-event.js";
import type { Migration } from "./migrations.js";
import { enqueueWebhookEvent } from "./outbox.js";
import { diskUsage } from "./sandboxes.js";

/**
 * Jobs and their event logs. The queue is the partial index `jobs_queue` (pending, unclaimed turns by
 * `queued_at`), so claiming costs the same whatever the number of finished jobs. Every list has an index
 * that matches its filter and order: (workspace_id, id), (status, id) and (workspace_id, status, id).
 */
export const jobsMigration: Migration = {
  version: 3,
  name: "jobs",
  sql: `
    CREATE TABLE jobs (
      id TEXT PRIMARY KEY,
      workspace_id TEXT,
      spec TEXT NOT NULL,
      status TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      started_at INTEGER,
      completed_at INTEGER,
      sandbox_id TEXT,
      session_id TEXT,
      turns INTEGER NOT NULL,
      cleaned_up_at INTEGER,
      error TEXT,
      runner TEXT NOT NULL,
      test_mode INTEGER NOT NULL,
      queued_at INTEGER NOT NULL,
      claimed_by TEXT,
      lease_until INTEGER
    );
    CREATE INDEX jobs_workspace ON jobs(workspace_id, id);
    CREATE INDEX jobs_status ON jobs(status, id);
    CREATE INDEX jobs_workspace_status ON jobs(workspace_id, status, id);
    CREATE INDEX jobs_queue ON jobs(runner, queued_at, id) WHERE status = 'pending' AND claimed_by IS NULL;
    CREATE INDEX jobs_claims ON jobs(claimed_by) WHERE claimed_by IS NOT NULL;
    CREATE TABLE job_events (
      job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      type TEXT NOT NULL,
      data TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (job_id, seq)
    ) WITHOUT ROWID;
  `,
};

/**
 * `jobs.error_code`: the machine half of a failed turn's `error` (`JobError.code` in the spec). Rows failed
 * before it existed keep a null code and read as `agent_failed`.
 */
export const jobErrorCodeMigration: Migration = {
  version: 8,
  name: "job error codes",
  sql: "ALTER TABLE jobs ADD COLUMN error_code TEXT;",
};

interface JobRow {
  id: string;
  workspace_id: string | null;
  spec: string;
  status: JobStatus;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  sandbox_id: string | null;
  session_id: string | null;
  turns: number;
  cleaned_up_at: number | null;
  error: string | null;
  error_code: string | null;
  runner: string;
  test_mode: number;
  claimed_by: string | null;
  lease_until: number | null;
}

interface EventRow {
  job_id: string;
  seq: number;
  type: JobEventRecord["type"];
  data: string;
  created_at: number;
}

const toRecord = (row: JobRow): JobRecord => ({
  id: row.id,
  workspaceId: row.workspace_id,
  spec: JSON.parse(row.spec) as JobSpec,
  status: row.status,
  createdAt: row.created_at,
  startedAt: row.started_at,
  completedAt: row.completed_at,
  sandboxId: row.sandbox_id,
  sessionId: row.session_id,
  turns: row.turns,
  cleanedUpAt: row.cleaned_up_at,
  error: row.error === null ? null : { code: (row.error_code ?? "agent_failed") as JobErrorCode, message: row.error },
  runner: row.runner,
  testMode: row.test_mode === 1,
  claimedBy: row.claimed_by,
  leaseUntil: row.lease_until,
});

const toEvent = (row: EventRow): JobEventRecord => ({
  jobId: row.job_id,
  seq: row.seq,
  type: row.type,
  data: JSON.parse(row.data) as Record<string, unknown>,
  createdAt: row.created_at,
});

const finished = (status: JobStatus) => status === "completed" || status === "failed";

/** The SQLite job repository: every method is one IMMEDIATE transaction, so replicas never interleave. */
export class SqliteJobRepo implements JobRepo {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      byId: p("SELECT * FROM jobs WHERE id = ?"),
      insert: p(
        `INSERT INTO jobs (id, workspace_id, spec, status, created_at, turns, runner, test_mode, queued_at)
         VALUES (@id, @workspace_id, @spec, 'pending', @now, 1, @runner, @test_mode, @now)`,
      ),
      activeTestJobs: p(
        `SELECT count(*) AS n FROM jobs WHERE workspace_id IS @workspace AND status IN ('pending', 'running')
           AND test_mode = 1 AND id != @id`,
      ),
      // "~" sorts after every id, so it stands for "from the newest".
      listAll: p("SELECT * FROM jobs WHERE id < @before ORDER BY id DESC LIMIT @limit"),
      listWorkspace: p(
        "SELECT * FROM jobs WHERE workspace_id = @workspace AND id < @before ORDER BY id DESC LIMIT @limit",
      ),
      listStatus: p("SELECT * FROM jobs WHERE status = @status AND id < @before ORDER BY id DESC LIMIT @limit"),
      listWorkspaceStatus: p(
        `SELECT * FROM jobs WHERE workspace_id = @workspace AND status = @status AND id < @before
         ORDER BY id DESC LIMIT @limit`,
      ),
      requeue: p(
        `UPDATE jobs SET status = 'pending', spec = @spec, turns = turns + 1, error = NULL, error_code = NULL,
           started_at = NULL,
           completed_at = NULL, runner = @runner, test_mode = @test_mode, queued_at = @now,
           claimed_by = NULL, lease_until = NULL
         WHERE id = @id AND status IN ('completed', 'failed') AND cleaned_up_at IS NULL`,
      ),
      claim: p(
        `UPDATE jobs SET claimed_by = @replica, lease_until = @lease
         WHERE id = (SELECT id FROM jobs WHERE runner = @runner AND status = 'pending' AND claimed_by IS NULL
                     ORDER BY queued_at, id LIMIT 1)
         RETURNING *`,
      ),
      running: p(
        `UPDATE jobs SET status = 'running', started_at = @now, sandbox_id = @sandbox,
           session_id = coalesce(session_id, @session)
         WHERE id = @id AND status = 'pending' AND claimed_by = @replica AND cleaned_up_at IS NULL`,
      ),
      finish: p(
        `UPDATE jobs SET status = @status, error = @error, error_code = @code, completed_at = @now, claimed_by = NULL,
           lease_until = NULL
         WHERE id = @id AND status IN ('pending', 'running') AND claimed_by = @replica`,
      ),
      release: p(
        `UPDATE jobs SET claimed_by = NULL, lease_until = NULL
         WHERE id = ? AND status = 'pending' AND claimed_by = ?`,
      ),
      setSession: p("UPDATE jobs SET session_id = ? WHERE id = ?"),
      sessionAnywhere: p("SELECT 1 FROM jobs WHERE session_id = ? LIMIT 1"),
      sessionIn: p("SELECT 1 FROM jobs WHERE session_id = ? AND workspace_id = ? LIMIT 1"),
      stop: p(
        `UPDATE jobs SET status = 'failed', error = @error, error_code = @code, completed_at = @now, claimed_by = NULL,
           lease_until = NULL
         WHERE id = @id AND status IN ('pending', 'running')`,
      ),
      markCleaned: p("UPDATE jobs SET cleaned_up_at = @now, sandbox_id = NULL, sandbox_bytes = 0 WHERE id = @id"),
      reserve: p("UPDATE jobs SET sandbox_bytes = ? WHERE id = ?"),
      lastSeq: p("SELECT coalesce(max(seq), 0) AS seq FROM job_events WHERE job_id = ?"),
      insertEvent: p("INSERT INTO job_events (job_id, seq, type, data, created_at) VALUES (?, ?, ?, ?, ?)"),
      events: p("SELECT * FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
      renew: p(
        `UPDATE jobs SET lease_until = @lease WHERE claimed_by = @replica AND status IN ('pending', 'running')
         RETURNING id`,
      ),
      lost: p(
        `SELECT * FROM jobs WHERE claimed_by IS NOT NULL AND status IN ('pending', 'running')
           AND (claimed_by = @replica OR lease_until < @now)`,
      ),
    };
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
          const usage = diskUsage(this.db, job.workspaceId);
          const usedBytes = usage.workspaceBytes + usage.sandboxBytes;
          reserved = usage.workspaceBytes;
          if (usedBytes + reserved > job.sandboxQuotaBytes) {
            return { overQuota: true, usedBytes, neededBytes: reserved, quotaBytes: job.sandboxQuotaBytes };
          }
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
    const row = this.s.byId.get(id) as JobRow | undefined;
    return row ? toRecord(row) : null;
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
        if (!finished(current.status)) return { conflict: "not_finished", job: current };
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
    run: { sandboxId: string; sessionId: string; now: number },
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

  async finish(
    id: string,
    replicaId: string,
    outcome: { status: "completed" | "failed"; error: JobError | null; now: number },
    webhook: JobWebhookFactory,
  ): Promise<JobRecord | null> {
    return this.db
      .transaction(() => {
        const error =
          outcome.status === "failed" ? (outcome.error ?? { code: "agent_failed", message: "the turn failed" }) : null;
        const changed = this.s.finish.run({
          id,
          replica: replicaId,
          status: outcome.status,
          error: error?.message ?? null,
          code: error?.code ?? null,
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
        if (idleSince !== undefined) {
          // The TTL sweep read this job a moment ago; it may have been continued or cleaned since.
          const idle = finished(current.status) && current.completedAt !== null && current.completedAt <= idleSince;
          if (!idle || current.cleanedUpAt !== null) return null;
        }
        if (current.cleanedUpAt !== null) return { job: current, sandboxId: null, stopped: false };
        const error: JobError = { code: "cleaned_up", message: "cleaned up while running" };
        const stopped = this.s.stop.run({ id, error: error.message, code: error.code, now }).changes > 0;
        if (stopped) {
          this.append(id, now, [statusEvent("failed", error)]);
          this.notify(id, "job.failed", webhook);
        }
        this.s.markCleaned.run({ id, now });
        const message = idleSince === undefined ? "sandbox deleted" : "sandbox deleted: idle longer than its TTL";
        this.append(id, now, [{ type: "system", data: { message } }]);
        return { job: this.notify(id, "job.cleaned_up", webhook), sandboxId: current.sandboxId, stopped };
      })
      .immediate();
  }

  async cancel(id: string, now: number, webhook: JobWebhookFactory): Promise<CancelJobResult> {
    return this.db
      .transaction((): CancelJobResult => {
        const current = this.row(id);
        if (!current) return null;
        const error: JobError = { code: "cancelled", message: "cancelled by request" };
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

function statusEvent(status: JobStatus, error: JobError | null): NewJobEvent {
  return { type: "status", data: error === null ? { status } : { status, error } };
}

function turnEvent(turn: number, spec: JobSpec): NewJobEvent {
  return { type: "turn", data: { turn, prompt: spec.prompt ?? null } };
}
