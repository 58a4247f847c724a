import { canSee } from "../auth/scope.js";
import type { Clock } from "../clock.js";
import type { Handlers, RequestInput } from "../http/operation.js";
import { keyOf } from "../http/operation.js";
import { decodeCursor, nextPageLink, page } from "../http/pagination.js";
import { ProblemError } from "../http/problem.js";
import { headerOf } from "../http/request.js";
import { newId } from "../ids.js";
import type { Logger } from "../logger.js";
import type { JobRecord, JobSpec, JobWebhookFactory, TestModeLimited } from "../store/jobs-repo.js";
import type { KeyRecord, Store } from "../store/store.js";
import type { PresetCatalog } from "../workspaces/presets.js";
import { continueOverQuota, jobOverQuota, quotaLeft } from "../workspaces/quota.js";
import type { JobsConfig } from "./config.js";
import type { JobNotifier } from "./notifier.js";
import { presentEvent, presentJob } from "./present.js";
import { checkSpecRules, continueConflict, copiesWorkspace, isFinished, unknownSession } from "./rules.js";
import type { SandboxFiles } from "./sandbox-files.js";
import type { RunRegistry } from "./scheduler.js";
import { followJobEvents } from "./sse.js";
import { streamAccessCheck } from "./stream-access.js";
import { StreamSlots } from "./stream-slots.js";
import { waitForTurnEnd } from "./turn-end.js";
import { presetForPath, workspaceIdForPath } from "./workspace-lookup.js";

export interface JobHandlerDeps {
  /** Aborted when the server begins a graceful shutdown (event streams end then). */
  stopping?: AbortSignal;
  store: Store;
  clock: Clock;
  logger: Logger;
  config: JobsConfig;
  /** The sandboxes' files: on disk in the server, in memory in the mock. */
  sandboxes: SandboxFiles;
  notifier: JobNotifier;
  runs: RunRegistry;
  webhook: JobWebhookFactory;
  presets: PresetCatalog;
}

/** Handlers for the `/jobs` operations; permissions, validation and idempotency come from the pipeline. */
export function jobHandlers(deps: JobHandlerDeps): Handlers {
  const { store, config, notifier } = deps;
  const streamSlots = new StreamSlots(config.maxStreamsPerKey);
  /** Jobs with a continue waiting for their turn to end (see `untilContinuable`). */
  const waiting = new Set<string>();

  /** The job in the path, if the caller's workspace scope lets it see it (404 otherwise, never 403). */
  async function visibleJob(input: RequestInput): Promise<JobRecord> {
    const id = input.params.job_id ?? "";
    const job = await store.jobs.get(id);
    if (!job || !canSee(keyOf(input), job.workspaceId)) {
      throw new ProblemError(
        "not_found",
        `No job ${id} is visible to this key. Check the id, and the key's workspace.`,
      );
    }
    return job;
  }

  /**
   * The workspace a new job belongs to: `spec.workspace_path`'s, else a scoped key's own. A preset belongs to
   * no one: its jobs stay in the key's workspace (or none) and only copy the preset's files.
   */
  async function workspaceFor(key: KeyRecord, spec: JobSpec): Promise<string | null> {
    if (spec.workspace_path === undefined || presetForPath(deps.presets, spec.workspace_path)) return key.workspaceId;
    const id = await workspaceIdForPath(store, spec.workspace_path, key);
    // One message for "no such path" and "another workspace's path", so a scoped key learns nothing.
    if (id === null || !canSee(key, id)) {
      throw new ProblemError(
        "not_found",
        `No workspace with the path ${spec.workspace_path} is visible to this key. Check spec.workspace_path against GET /workspaces, or upload the workspace first (POST /workspaces).`,
      );
    }
    return id;
  }

  /** Test keys never start a real agent (Knify: "free sandbox usage"): their turns run in the simulator. */
  const runnerFor = (key: KeyRecord) => (key.type === "test" ? "simulated" : config.runner);
  const testModeLimit = (key: KeyRecord) => (key.type === "test" ? config.testModeMaxActiveJobs : null);

  function limited(result: TestModeLimited, workspaceId: string | null): ProblemError {
    const where =
      workspaceId === null ? "Jobs without a workspace already have" : `Workspace ${workspaceId} already has`;
    return new ProblemError(
      "test_mode_limit",
      `${where} ${result.active} unfinished test-mode jobs, the most test keys may run at once. Wait for one to finish, clean one up, or use a live key.`,
      {},
      { "Retry-After": "1" },
    );
  }

  return {
    createJob: async (input) => {
      const key = keyOf(input);
      const { spec } = input.body;
      checkSpecRules(spec);
      const workspaceId = await workspaceFor(key, spec);
      // Resuming an agent session hands its conversation (and whatever the agent keeps with it) to this job:
      // only a session a job visible to this key carries may be named (issue 15, item 11).
      if (spec.session_id !== undefined && !(await store.jobs.hasSession(spec.session_id, key.workspaceId))) {
        throw unknownSession(spec.session_id);
      }
      const testMode = key.type === "test";
      const result = await store.jobs.create(
        {
          id: newId("job"),
          workspaceId,
          spec,
          runner: runnerFor(key),
          testMode,
          now: input.now,
          sandboxQuotaBytes: copiesWorkspace({ spec, testMode }) ? config.diskQuotaBytes : null,
        },
        testModeLimit(key),
        deps.webhook,
      );
      if ("limited" in result) throw limited(result, workspaceId);
      if ("overQuota" in result) throw jobOverQuota(workspaceId ?? "", result);
      notifier.queued();
      return { body: { job_id: result.job.id, status: result.job.status } };
    },

    listJobs: async (input) => {
      const key = keyOf(input);
      const { limit } = input.query;
      const before = decodeCursor(input.query.cursor);
      const { status } = input.query;
      const items = await store.jobs.list({
        limit: limit + 1,
        ...(before ? { before } : {}),
        ...(status ? { status } : {}),
        ...(key.workspaceId !== null ? { workspaceId: key.workspaceId } : {}),
      });
      const result = page(input, items, limit, (job) => job.id);
      return { body: result.body.map(presentJob), headers: result.headers };
    },

    getJob: async (input) => ({ body: presentJob(await visibleJob(input)) }),

    listJobEvents: async (input) => {
      const job = await visibleJob(input);
      const lastEventId = input.headers["last-event-id"];
      const after = typeof lastEventId === "string" ? Number(lastEventId) : (input.query.after ?? 0);
      if (headerOf(input.request, "accept").includes("text/event-stream")) {
        const release = streamSlots.take(keyOf(input).id);
        if (!release) {
          throw new ProblemError(
            "too_many_streams",
            `This key already has ${streamSlots.perKey} event streams open, the most one key may hold. Close one, or page with GET /jobs/${job.id}/events?after=<seq> instead.`,
            {},
            { "Retry-After": "1" },
          );
        }
        return followJobEvents(job.id, after, {
          store,
          notifier,
          logger: deps.logger,
          keepAliveMs: config.sseKeepAliveMs,
          accessEnded: streamAccessCheck(store, deps.clock, headerOf(input.request, "authorization"), job),
          requestId: input.requestId,
          signal: input.request.signal,
          onEnd: release,
          ...(deps.stopping ? { stopping: deps.stopping } : {}),
        });
      }
      const { limit } = input.query;
      const events = await store.jobs.events(job.id, after, limit + 1);
      const more = events.length > limit;
      const pageEvents = more ? events.slice(0, limit) : events;
      const last = pageEvents.at(-1);
      return {
        body: pageEvents.map(presentEvent),
        headers: more && last ? { Link: nextPageLink(input, { after: String(last.seq), limit: String(limit) }) } : {},
      };
    },

    continueJob: async (input) => {
      const key = keyOf(input);
      const job = await untilContinuable(await visibleJob(input), input);
      const conflict = continueConflict(job);
      if (conflict) throw conflict;
      const next = input.body.spec;
      checkContinueType(job, next.job_type);
      // The turn's agent writes into a sandbox that counts against the workspace's disk quota (measured after
      // every turn): with no room left, refuse now rather than let it run. A test key's empty simulated
      // sandbox is outside the quota, as at creation.
      if (job.workspaceId !== null && copiesWorkspace(job)) {
        const usage = await store.sandboxes.usage(job.workspaceId);
        if (quotaLeft(usage, config.diskQuotaBytes) <= 0) {
          throw continueOverQuota(job.workspaceId, usage, config.diskQuotaBytes);
        }
      }
      const spec: JobSpec = { ...job.spec, prompt: next.prompt };
      if (next.model !== undefined) spec.model = next.model;
      if (next.metadata !== undefined) spec.metadata = next.metadata;
      const result = await store.jobs.continue(
        job.id,
        // A job that ran in the simulator stays there: a later live key must not start a real agent in it.
        {
          spec,
          runner: job.runner === "simulated" ? "simulated" : runnerFor(key),
          testMode: key.type === "test",
          now: input.now,
        },
        testModeLimit(key),
        deps.webhook,
      );
      if (result === null) throw new ProblemError("not_found", `No job ${job.id} is visible to this key.`);
      if ("limited" in result) throw limited(result, job.workspaceId);
      // Another request changed the job between our read and the update: report what it is now.
      if ("conflict" in result)
        throw continueConflict(result.job) ?? new ProblemError("conflict", "Retry the request.");
      notifier.queued();
      notifier.jobChanged(job.id);
      return { body: { job_id: result.job.id, status: result.job.status } };
    },

    cleanupJob: async (input) => {
      const job = await visibleJob(input);
      const result = await store.jobs.cleanup(job.id, input.now, deps.webhook);
      if (!result) throw new ProblemError("not_found", `No job ${job.id} is visible to this key.`);
      notifier.jobChanged(job.id);
      // The store says "failed" first, so the turn's own ending (if it runs here) is a no-op; then stop it.
      await deps.runs.abort(job.id);
      if (result.sandboxId !== null) await deps.sandboxes.remove(result.sandboxId);
      return { body: presentJob(result.job) };
    },

    cancelJob: async (input) => {
      const job = await visibleJob(input);
      const result = await store.jobs.cancel(job.id, input.now, deps.webhook);
      if (result === null) throw new ProblemError("not_found", `No job ${job.id} is visible to this key.`);
      if ("conflict" in result) throw cancelConflict(result.job);
      notifier.jobChanged(job.id);
      // The store says "failed" first, so the turn's own ending is a no-op; then its agent's process group is
      // killed (a pending turn that was being provisioned never starts). The sandbox stays for a continue.
      await deps.runs.abort(job.id);
      return { body: presentJob(result.job) };
    },

    getJobArchive: async (input) => {
      const job = liveSandbox(await visibleJob(input));
      return {
        headers: {
          "Content-Type": "application/gzip",
          "Content-Disposition": `attachment; filename="${job.id}.tar.gz"`,
        },
        stream: await deps.sandboxes.archive(job.sandboxId),
      };
    },

    listJobChanges: async (input) => {
      const job = liveSandbox(await visibleJob(input));
      if (job.sandboxId === null) return { body: [] };
      const { changes, truncated } = await deps.sandboxes.changes(job.sandboxId);
      return { body: changes, headers: truncated ? { "X-Knify-Truncated": "true" } : {} };
    },
  };

  /**
   * The job once its current turn has ended, waiting up to `continueWaitMs` when it is pending or running.
   * One waiting continue per job (a caller cannot pile up held connections on one job); a second one, or a
   * wait that runs out, gets the usual 409.
   */
  async function untilContinuable(job: JobRecord, input: RequestInput): Promise<JobRecord> {
    if (isFinished(job.status) || job.cleanedUpAt !== null || config.continueWaitMs === 0 || waiting.has(job.id))
      return job;
    waiting.add(job.id);
    try {
      const deadline = deps.clock.now() + config.continueWaitMs;
      const ended = await waitForTurnEnd(store, notifier, job.id, deadline, input.request.signal, () =>
        deps.clock.now(),
      );
      return ended ?? job;
    } finally {
      waiting.delete(job.id);
    }
  }

  /**
   * The job, if its sandbox still exists: 410 once it was cleaned up. A job whose first turn has not been
   * provisioned yet (or was cancelled before it was) has no sandbox id: an empty sandbox, nothing there yet.
   */
  function liveSandbox(job: JobRecord): JobRecord {
    if (job.cleanedUpAt === null) return job;
    throw new ProblemError(
      "job_cleaned_up",
      `Job ${job.id} was cleaned up at ${new Date(job.cleanedUpAt).toISOString()}; its sandbox is gone. Take the archive or the changes before POST /jobs/{job_id}/cleanup next time.`,
    );
  }
}

/** A cancel of a job that is not pending or running, as a 409 that says what it is. */
function cancelConflict(job: JobRecord): ProblemError {
  const what =
    job.cleanedUpAt !== null
      ? `was cleaned up at ${new Date(job.cleanedUpAt).toISOString()}`
      : `is ${job.status}${job.error ? ` (${job.error.code})` : ""}`;
  return new ProblemError(
    "conflict",
    `Job ${job.id} ${what}: only a pending or running job can be cancelled. To run it again, continue it (POST /jobs/${job.id}/continue).`,
  );
}

/** `spec.job_type` of a continue may be sent (Knify's guides do), but a job keeps its type across turns. */
function checkContinueType(job: JobRecord, jobType: JobSpec["job_type"] | undefined): void {
  if (jobType === undefined || jobType === job.spec.job_type) return;
  throw new ProblemError(
    "validation_failed",
    `The request has 1 problem: body /spec/job_type is ${jobType}, but job ${job.id} is a ${job.spec.job_type} job; a job keeps its type across turns. Send job_type ${job.spec.job_type} (or leave it out), or create a new ${jobType} job.`,
    {
      errors: [
        { location: "body", path: "/spec/job_type", message: `must be the job's own type, ${job.spec.job_type}` },
      ],
    },
  );
}
