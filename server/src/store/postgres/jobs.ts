import type pg from "pg";
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
import { lockFor, type Queryable, row, rows, transaction } from "./database.js";
import { CHANNELS, notify } from "./notifications.js";
import { enqueueWebhookEvent } from "./outbox.js";
import { diskUsage } from "./sandboxes.js";

const STOP = `UPDATE jobs SET status = 'failed', error = $2, error_code = $3, completed_at = $4, claimed_by = NULL,
  lease_until = NULL WHERE id = $1 AND status IN ('pending', 'running')`;

/**
 * Jobs, their event logs and their queue, in PostgreSQL. A method that reads before it writes locks the
 * job's row first (`FOR UPDATE`); creating and continuing jobs of one workspace take turns on an advisory
 * lock (the test-mode cap and the disk quota are counts); the queue is claimed with `FOR UPDATE SKIP LOCKED`,
 * so replicas never wait on, or share, a turn. Every change notifies `knify_jobs` at commit.
 */
export class PostgresJobRepo implements JobRepo {
  constructor(private readonly pool: pg.Pool) {}

  async create(job: NewJob, testModeLimit: number | null, webhook: JobWebhookFactory): Promise<CreateJobResult> {
    return transaction(this.pool, async (client): Promise<CreateJobResult> => {
      await lockFor(client, `jobs:${job.workspaceId ?? ""}`);
      if (job.testMode && testModeLimit !== null) {
        const active = await this.activeTestJobs(client, job.workspaceId, job.id);
        if (active >= testModeLimit) return { limited: true, active };
      }
      let reserved = 0;
      if (job.sandboxQuotaBytes !== null && job.workspaceId !== null) {
        const reservation = sandboxReservation(await diskUsage(client, job.workspaceId), job.sandboxQuotaBytes);
        if ("overQuota" in reservation) return reservation;
        reserved = reservation.reserved;
      }
      await client.query(
        `INSERT INTO jobs (id, workspace_id, spec, status, created_at, turns, runner, test_mode, queued_at, sandbox_bytes)
         VALUES ($1, $2, $3, 'pending', $4, 1, $5, $6, $4, $7)`,
        [job.id, job.workspaceId, JSON.stringify(job.spec), job.now, job.runner, job.testMode ? 1 : 0, reserved],
      );
      await this.append(client, job.id, job.now, [statusEvent("pending", null), turnEvent(1, job.spec)]);
      return { job: await this.changed(client, job.id, "job.created", webhook, true) };
    });
  }

  async get(id: string): Promise<JobRecord | null> {
    const found = await row<JobRow>(this.pool, "SELECT * FROM jobs WHERE id = $1", [id]);
    return found ? toRecord(found) : null;
  }

  async list({ limit, before, workspaceId, status }: JobListQuery): Promise<JobRecord[]> {
    const found = await rows<JobRow>(
      this.pool,
      `SELECT * FROM jobs WHERE ($1::text IS NULL OR id < $1) AND ($2::text IS NULL OR workspace_id = $2)
         AND ($3::text IS NULL OR status = $3)
       ORDER BY id DESC LIMIT $4`,
      [before ?? null, workspaceId ?? null, status ?? null, limit],
    );
    return found.map(toRecord);
  }

  async continue(
    id: string,
    turn: NextTurn,
    testModeLimit: number | null,
    webhook: JobWebhookFactory,
  ): Promise<ContinueJobResult> {
    return transaction(this.pool, async (client): Promise<ContinueJobResult> => {
      const peek = await row<{ workspace_id: string | null }>(client, "SELECT workspace_id FROM jobs WHERE id = $1", [
        id,
      ]);
      if (!peek) return null;
      await lockFor(client, `jobs:${peek.workspace_id ?? ""}`);
      const current = await this.locked(client, id);
      if (!current) return null;
      if (current.cleanedUpAt !== null) return { conflict: "cleaned_up", job: current };
      if (!isFinished(current.status)) return { conflict: "not_finished", job: current };
      if (turn.testMode && testModeLimit !== null) {
        const active = await this.activeTestJobs(client, current.workspaceId, id);
        if (active >= testModeLimit) return { limited: true, active };
      }
      await client.query(
        `UPDATE jobs SET status = 'pending', spec = $2, turns = turns + 1, error = NULL, error_code = NULL,
           result = NULL, usage = NULL, started_at = NULL, completed_at = NULL, runner = $3, test_mode = $4,
           queued_at = $5, claimed_by = NULL, lease_until = NULL
         WHERE id = $1`,
        [id, JSON.stringify(turn.spec), turn.runner, turn.testMode ? 1 : 0, turn.now],
      );
      await this.append(client, id, turn.now, [statusEvent("pending", null), turnEvent(current.turns + 1, turn.spec)]);
      return { job: await this.changed(client, id, "job.continued", webhook, true) };
    });
  }

  async claimNext(runner: string, replicaId: string, now: number, leaseMs: number): Promise<JobRecord | null> {
    // SKIP LOCKED: a turn another replica is claiming right now is passed over, not waited for.
    const claimed = await row<JobRow>(
      this.pool,
      `UPDATE jobs SET claimed_by = $2, lease_until = $3
       WHERE id = (SELECT id FROM jobs WHERE runner = $1 AND status = 'pending' AND claimed_by IS NULL
                   ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [runner, replicaId, now + leaseMs],
    );
    return claimed ? toRecord(claimed) : null;
  }

  async markRunning(
    id: string,
    replicaId: string,
    run: { sandboxId: string; sessionId: string | null; now: number },
    webhook: JobWebhookFactory,
  ): Promise<JobRecord | null> {
    return transaction(this.pool, async (client) => {
      const changed = await client.query(
        `UPDATE jobs SET status = 'running', started_at = $3, sandbox_id = $4, session_id = coalesce(session_id, $5)
         WHERE id = $1 AND status = 'pending' AND claimed_by = $2 AND cleaned_up_at IS NULL`,
        [id, replicaId, run.now, run.sandboxId, run.sessionId],
      );
      if (changed.rowCount === 0) return null;
      await this.append(client, id, run.now, [statusEvent("running", null)]);
      return this.changed(client, id, "job.running", webhook);
    });
  }

  async finish(id: string, replicaId: string, outcome: TurnEnd, webhook: JobWebhookFactory): Promise<JobRecord | null> {
    return transaction(this.pool, async (client) => {
      const error = turnError(outcome);
      const changed = await client.query(
        `UPDATE jobs SET status = $3, error = $4, error_code = $5, result = $6, usage = $7, completed_at = $8,
           claimed_by = NULL, lease_until = NULL
         WHERE id = $1 AND status IN ('pending', 'running') AND claimed_by = $2`,
        [
          id,
          replicaId,
          outcome.status,
          error?.message ?? null,
          error?.code ?? null,
          outcome.result ?? null,
          outcome.usage ? JSON.stringify(outcome.usage) : null,
          outcome.now,
        ],
      );
      if (changed.rowCount === 0) return null;
      await this.append(client, id, outcome.now, [statusEvent(outcome.status, error)]);
      return this.changed(client, id, outcome.status === "failed" ? "job.failed" : "job.completed", webhook);
    });
  }

  async release(id: string, replicaId: string): Promise<void> {
    await transaction(this.pool, async (client) => {
      const released = await client.query(
        "UPDATE jobs SET claimed_by = NULL, lease_until = NULL WHERE id = $1 AND status = 'pending' AND claimed_by = $2",
        [id, replicaId],
      );
      if (released.rowCount) await notify(client, CHANNELS.jobs, `${id} queued`);
    });
  }

  async appendEvents(id: string, events: NewJobEvent[], now: number): Promise<void> {
    if (events.length === 0) return;
    await transaction(this.pool, async (client) => {
      await this.append(client, id, now, events);
      await notify(client, CHANNELS.jobs, id);
    });
  }

  async setSession(id: string, sessionId: string): Promise<void> {
    await this.pool.query("UPDATE jobs SET session_id = $2 WHERE id = $1", [id, sessionId]);
  }

  async hasSession(sessionId: string, workspaceId: string | null): Promise<boolean> {
    const found = await row(
      this.pool,
      "SELECT 1 FROM jobs WHERE session_id = $1 AND ($2::text IS NULL OR workspace_id = $2) LIMIT 1",
      [sessionId, workspaceId],
    );
    return found !== null;
  }

  async cleanup(
    id: string,
    now: number,
    webhook: JobWebhookFactory,
    idleSince?: number,
  ): Promise<CleanupResult | null> {
    return transaction(this.pool, async (client): Promise<CleanupResult | null> => {
      const current = await this.locked(client, id);
      if (!current) return null;
      // The TTL sweep read this job a moment ago; it may have been continued or cleaned since.
      if (idleSince !== undefined && !stillIdle(current, idleSince)) return null;
      if (current.cleanedUpAt !== null) return { job: current, sandboxId: null, stopped: false };
      const error = CLEANED_UP_ERROR;
      const stopped = ((await client.query(STOP, [id, error.message, error.code, now])).rowCount ?? 0) > 0;
      if (stopped) {
        await this.append(client, id, now, [statusEvent("failed", error)]);
        await this.changed(client, id, "job.failed", webhook);
      }
      await client.query("UPDATE jobs SET cleaned_up_at = $2, sandbox_id = NULL, sandbox_bytes = 0 WHERE id = $1", [
        id,
        now,
      ]);
      await this.append(client, id, now, [cleanupEvent(idleSince)]);
      return { job: await this.changed(client, id, "job.cleaned_up", webhook), sandboxId: current.sandboxId, stopped };
    });
  }

  async cancel(id: string, now: number, webhook: JobWebhookFactory): Promise<CancelJobResult> {
    return transaction(this.pool, async (client): Promise<CancelJobResult> => {
      const current = await this.locked(client, id);
      if (!current) return null;
      const error = CANCELLED_ERROR;
      if ((await client.query(STOP, [id, error.message, error.code, now])).rowCount === 0) {
        return { conflict: true, job: current };
      }
      await this.append(client, id, now, [statusEvent("failed", error)]);
      return { job: await this.changed(client, id, "job.failed", webhook) };
    });
  }

  async events(id: string, after: number, limit: number): Promise<JobEventRecord[]> {
    const found = await rows<EventRow>(
      this.pool,
      "SELECT * FROM job_events WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
      [id, after, limit],
    );
    return found.map(toEvent);
  }

  async renewLeases(replicaId: string, now: number, leaseMs: number): Promise<string[]> {
    const renewed = await rows<{ id: string }>(
      this.pool,
      "UPDATE jobs SET lease_until = $2 WHERE claimed_by = $1 AND status IN ('pending', 'running') RETURNING id",
      [replicaId, now + leaseMs],
    );
    return renewed.map((r) => r.id);
  }

  async recover(
    replicaId: string | null,
    now: number,
    message: string,
    webhook: JobWebhookFactory,
  ): Promise<RecoveryResult> {
    return transaction(this.pool, async (client) => {
      const result: RecoveryResult = { failed: [], requeued: [] };
      // SKIP LOCKED: two replicas recovering at once split the lost turns instead of both failing each.
      const lost = await rows<JobRow>(
        client,
        `SELECT * FROM jobs WHERE claimed_by IS NOT NULL AND status IN ('pending', 'running')
           AND (claimed_by = $1 OR lease_until < $2) ORDER BY id FOR UPDATE SKIP LOCKED`,
        [replicaId, now],
      );
      for (const job of lost) {
        if (job.status === "pending") {
          await client.query("UPDATE jobs SET claimed_by = NULL, lease_until = NULL WHERE id = $1", [job.id]);
          await notify(client, CHANNELS.jobs, `${job.id} queued`);
          result.requeued.push(job.id);
          continue;
        }
        const error: JobError = { code: "interrupted", message };
        await client.query(STOP, [job.id, error.message, error.code, now]);
        await this.append(client, job.id, now, [{ type: "system", data: { message } }, statusEvent("failed", error)]);
        await this.changed(client, job.id, "job.failed", webhook);
        result.failed.push(job.id);
      }
      return result;
    });
  }

  private async locked(client: pg.ClientBase, id: string): Promise<JobRecord | null> {
    const found = await row<JobRow>(client, "SELECT * FROM jobs WHERE id = $1 FOR UPDATE", [id]);
    return found ? toRecord(found) : null;
  }

  private async activeTestJobs(db: Queryable, workspaceId: string | null, exceptId: string): Promise<number> {
    const found = await row<{ n: number }>(
      db,
      `SELECT count(*) AS n FROM jobs WHERE workspace_id IS NOT DISTINCT FROM $1 AND status IN ('pending', 'running')
         AND test_mode = 1 AND id <> $2`,
      [workspaceId, exceptId],
    );
    return found?.n ?? 0;
  }

  /** Appends events with the next gapless seqs: bumping the job's counter locks its row until commit. */
  private async append(client: pg.ClientBase, id: string, now: number, events: NewJobEvent[]): Promise<void> {
    const bumped = await row<{ last_seq: number }>(
      client,
      "UPDATE jobs SET last_seq = last_seq + $2 WHERE id = $1 RETURNING last_seq",
      [id, events.length],
    );
    if (!bumped) throw new Error(`job ${id} does not exist`);
    const first = bumped.last_seq - events.length + 1;
    await client.query(
      `INSERT INTO job_events (job_id, seq, type, data, created_at)
       SELECT $1, e.seq, e.type, e.data, $5 FROM unnest($2::int[], $3::text[], $4::text[]) AS e(seq, type, data)`,
      [id, events.map((_, i) => first + i), events.map((e) => e.type), events.map((e) => JSON.stringify(e.data)), now],
    );
  }

  /** Reads the changed job, writes its webhook event and notifies other replicas, all in this transaction. */
  private async changed(
    client: pg.ClientBase,
    id: string,
    type: WebhookEventType,
    webhook: JobWebhookFactory,
    queued = false,
  ): Promise<JobRecord> {
    const found = await row<JobRow>(client, "SELECT * FROM jobs WHERE id = $1", [id]);
    if (!found) throw new Error(`job ${id} vanished inside its own transaction`);
    const job = toRecord(found);
    const event = webhook(type, job);
    if (event) await enqueueWebhookEvent(client, event);
    await notify(client, CHANNELS.jobs, queued ? `${id} queued` : id);
    return job;
  }
}
