import type { Clock } from "../clock.js";
import { newId } from "../ids.js";
import type { Logger } from "../logger.js";
import type { JobRecord, JobWebhookFactory } from "../store/jobs-repo.js";
import type { Store } from "../store/store.js";
import type { JobNotifier } from "./notifier.js";
import { OutputSink } from "./output-sink.js";
import type { Runner, RunOutcome } from "./runner.js";
import type { SandboxFiles } from "./sandbox-files.js";

/** The turns running in this process, so that a cleanup or a shutdown can stop them. */
export class RunRegistry {
  private readonly runs = new Map<string, { controller: AbortController; done: Promise<void> }>();

  add(jobId: string, controller: AbortController, done: Promise<void>): void {
    this.runs.set(jobId, { controller, done });
  }

  delete(jobId: string): void {
    this.runs.delete(jobId);
  }

  has(jobId: string): boolean {
    return this.runs.has(jobId);
  }

  ids(): string[] {
    return [...this.runs.keys()];
  }

  /** Stops the turn of `jobId` if it runs here, and waits until its agent is gone. */
  async abort(jobId: string): Promise<void> {
    const run = this.runs.get(jobId);
    if (!run) return;
    run.controller.abort();
    await run.done;
  }

  async abortAll(): Promise<void> {
    await Promise.all(this.ids().map((id) => this.abort(id)));
  }
}

export interface SchedulerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  notifier: JobNotifier;
  /** The sandboxes' files: on disk in the server, in memory in the mock. */
  sandboxes: SandboxFiles;
  replicaId: string;
  /** How long a claim holds without renewal (`KNIFY_JOB_LEASE_MS`); the jobs module renews it. */
  leaseMs: number;
  webhook: JobWebhookFactory;
  runs: RunRegistry;
}

/**
 * Takes queued turns of one runner kind from the store, at most `maxConcurrent` at a time, and runs each:
 * provision the sandbox → running → runner → completed/failed. Woken by the notifier when a turn is queued
 * here, and by a slow poll for turns queued through other replicas.
 */
export class Scheduler {
  private active = 0;
  private stopped = false;
  private pumping = false;
  private again = false;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: SchedulerDeps,
    readonly kind: string,
    private readonly runner: Runner,
    private readonly maxConcurrent: number,
    private readonly pollMs = 1000,
  ) {}

  start(): void {
    this.unsubscribe = this.deps.notifier.onQueued(() => void this.pump());
    this.timer = setInterval(() => void this.pump(), this.pollMs);
    // Node only: browsers (the msw mock of `@knify/sdk/testing`) have no unref.
    this.timer.unref?.();
    void this.pump();
  }

  /** Claims nothing more. Running turns are stopped by the caller through the registry. */
  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (!this.stopped && this.active < this.maxConcurrent) {
          const { store, clock, replicaId } = this.deps;
          const job = await store.jobs.claimNext(this.kind, replicaId, clock.now(), this.deps.leaseMs);
          if (!job) break;
          this.launch(job);
        }
      } while (this.again && !this.stopped);
    } catch (error) {
      this.deps.logger.error({ err: error }, "claiming a job failed");
    } finally {
      this.pumping = false;
    }
  }

  private launch(job: JobRecord): void {
    this.active += 1;
    const controller = new AbortController();
    const done = this.runTurn(job, controller.signal)
      .catch((error: unknown) => this.deps.logger.error({ err: error, job_id: job.id }, "running a job failed"))
      .finally(() => {
        this.deps.runs.delete(job.id);
        this.active -= 1;
        void this.pump();
      });
    this.deps.runs.add(job.id, controller, done);
  }

  private async runTurn(claimed: JobRecord, signal: AbortSignal): Promise<void> {
    const { store, clock, logger, notifier, replicaId, webhook } = this.deps;
    const fresh = claimed.sandboxId === null;
    const sandboxId = claimed.sandboxId ?? newId("sbx");
    const { sandboxes } = this.deps;
    const discardFresh = async () => {
      if (fresh) await sandboxes.remove(sandboxId);
    };
    const finish = async (outcome: RunOutcome) => {
      const error =
        outcome.status === "failed"
          ? { code: outcome.code ?? ("agent_failed" as const), message: outcome.error }
          : null;
      await store.jobs.finish(
        claimed.id,
        replicaId,
        {
          status: outcome.status,
          error,
          result: outcome.result ?? null,
          usage: outcome.usage ?? null,
          now: clock.now(),
        },
        webhook,
      );
      notifier.jobChanged(claimed.id);
    };

    try {
      await sandboxes.provision(sandboxId, claimed, fresh);
    } catch (error) {
      logger.error({ err: error, job_id: claimed.id }, "provisioning a sandbox failed");
      if (fresh) await this.recordSize(claimed.id, null);
      if (!signal.aborted)
        await finish({ status: "failed", error: "could not provision the sandbox", code: "sandbox_failed" });
      return;
    }
    // The reservation made at creation becomes the copy's real size (the workspace may have changed since).
    if (fresh) await this.recordSize(claimed.id, sandboxId);
    if (signal.aborted) {
      // Stopped before it started: a shutdown gives the turn back to the queue (a cancel or cleanup already
      // failed it).
      await store.jobs.release(claimed.id, replicaId);
      await discardFresh();
      return;
    }
    // An agent CLI names its own sessions: a first turn starts a fresh one instead of "resuming" an id it never made.
    const sessionId =
      claimed.sessionId ?? claimed.spec.session_id ?? (this.runner.ownsSessions === true ? null : newId("ses"));
    const job = await store.jobs.markRunning(
      claimed.id,
      replicaId,
      { sandboxId, sessionId, now: clock.now() },
      webhook,
    );
    if (!job) {
      // Cancelled or cleaned up while we provisioned: the sandbox we just made belongs to nobody.
      await discardFresh();
      return;
    }
    notifier.jobChanged(job.id);

    const sink = new OutputSink(
      async (events) => {
        await store.jobs.appendEvents(job.id, events, clock.now());
        notifier.jobChanged(job.id);
      },
      (error) => logger.error({ err: error, job_id: job.id }, "writing job output failed"),
    );
    let outcome: RunOutcome;
    try {
      outcome = await this.runner.run({
        job,
        sandboxPath: sandboxes.path(sandboxId),
        sessionId: job.sessionId ?? sessionId,
        signal,
        output: (stream, line) => sink.push({ type: "output", data: { stream, line } }),
        emit: (event) => sink.push(event),
        setSession: (id) => {
          store.jobs
            .setSession(job.id, id)
            .catch((error: unknown) => logger.error({ err: error }, "setting a session"));
        },
      });
    } catch (error) {
      logger.error({ err: error, job_id: job.id }, "the runner threw");
      outcome = { status: "failed", error: "the runner failed unexpectedly", code: "runner_failed" };
    }
    if (signal.aborted) {
      // A cancel or cleanup already ended the turn in the store, or the server is stopping (the next start
      // recovers it).
      sink.discard();
      return;
    }
    await sink.flush();
    // What the agent wrote counts against the workspace's disk quota from now on.
    await this.recordSize(job.id, sandboxId);
    await finish(outcome);
  }

  /** Stores the size of a job's sandbox (0 for `null`: it has none); a failure is logged, never fatal. */
  private async recordSize(jobId: string, sandboxId: string | null): Promise<void> {
    try {
      const bytes = sandboxId === null ? 0 : await this.deps.sandboxes.measure(sandboxId);
      await this.deps.store.sandboxes.setBytes(jobId, bytes);
    } catch (error) {
      this.deps.logger.warn({ err: error, job_id: jobId }, "measuring a sandbox failed");
    }
  }
}
