import { canSee } from "../auth/scope.js";
import type { Clock } from "../clock.js";
import type { Handlers, JsonBody, RequestInput } from "../http/operation.js";
import { keyOf } from "../http/operation.js";
import { ProblemError } from "../http/problem.js";
import { newId } from "../ids.js";
import type { Logger } from "../logger.js";
import { decodeCursor, nextPageLink, page } from "../routes/pagination.js";
import type { JobRecord, JobSpec, JobStatus, JobWebhookFactory, TestModeLimited } from "../store/jobs-repo.js";
import type { KeyRecord, Store } from "../store/store.js";
import { sandboxDir } from "../workspaces/paths.js";
import { jobOverQuota } from "../workspaces/quota.js";
import type { JobsConfig } from "./config.js";
import type { JobNotifier } from "./notifier.js";
import { presentEvent, presentJob } from "./present.js";
import { checkSpecRules, continueConflict } from "./rules.js";
import { copiesWorkspace, removeSandbox } from "./sandbox.js";
import type { RunRegistry } from "./scheduler.js";
import { followJobEvents } from "./sse.js";
import { streamAccessCheck } from "./stream-access.js";
import { StreamSlots } from "./stream-slots.js";
import { workspaceIdForPath } from "./workspace-lookup.js";

export interface JobHandlerDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  config: JobsConfig;
  dataDir: string;
  notifier: JobNotifier;
  runs: RunRegistry;
  webhook: JobWebhookFactory;
}

/** Handlers for the `/jobs` operations; permissions, validation and idempotency come from the pipeline. */
export function jobHandlers(deps: JobHandlerDeps): Handlers {
  const { store, config, notifier } = deps;
  const streamSlots = new StreamSlots(config.maxStreamsPerKey);

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

  /** The workspace a new job belongs to: `spec.workspace_path`'s, else a scoped key's own. */
  async function workspaceFor(key: KeyRecord, spec: JobSpec): Promise<string | null> {
    if (spec.workspace_path === undefined) return key.workspaceId;
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
      const { spec } = input.body as JsonBody<"createJob">;
      checkSpecRules(spec);
      const workspaceId = await workspaceFor(key, spec);
      // Resuming an agent session hands its conversation (and whatever the agent keeps with it) to this job:
      // only a session a job visible to this key carries may be named (issue 15, item 11).
      if (spec.session_id !== undefined && !(await store.jobs.hasSession(spec.session_id, key.workspaceId))) {
        throw new ProblemError(
          "not_found",
          `No job visible to this key carries the session ${spec.session_id}. Name a session from a job's cursor_session_id, or leave spec.session_id out to start a new session.`,
        );
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
      const limit = input.query.limit as number;
      const before = decodeCursor(input.query.cursor);
      const status = input.query.status as JobStatus | undefined;
      const items = await store.jobs.list({
        limit: limit + 1,
        ...(before ? { before } : {}),
        ...(status ? { status } : {}),
        ...(key.workspaceId !== null ? { workspaceId: key.workspaceId } : {}),
      });
      const result = page(input.ctx, items, limit, (job) => job.id);
      return { body: result.body.map(presentJob), headers: result.headers };
    },

    getJob: async (input) => ({ body: presentJob(await visibleJob(input)) }),

    listJobEvents: async (input) => {
      const job = await visibleJob(input);
      const lastEventId = input.headers["last-event-id"];
      const after = typeof lastEventId === "string" ? Number(lastEventId) : ((input.query.after as number) ?? 0);
      if (input.ctx.get("accept").includes("text/event-stream")) {
        const release = streamSlots.take(keyOf(input).id);
        if (!release) {
          throw new ProblemError(
            "too_many_streams",
            `This key already has ${streamSlots.perKey} event streams open, the most one key may hold. Close one, or page with GET /jobs/${job.id}/events?after=<seq> instead.`,
            {},
            { "Retry-After": "1" },
          );
        }
        followJobEvents(input.ctx, job.id, after, {
          store,
          notifier,
          logger: deps.logger,
          keepAliveMs: config.sseKeepAliveMs,
          accessEnded: streamAccessCheck(store, deps.clock, input.ctx.get("authorization"), job),
          requestId: input.requestId,
          onEnd: release,
        });
        return { streamed: true };
      }
      const limit = input.query.limit as number;
      const events = await store.jobs.events(job.id, after, limit + 1);
      const more = events.length > limit;
      const pageEvents = more ? events.slice(0, limit) : events;
      const last = pageEvents.at(-1);
      return {
        body: pageEvents.map(presentEvent),
        headers:
          more && last ? { Link: nextPageLink(input.ctx, { after: String(last.seq), limit: String(limit) }) } : {},
      };
    },

    continueJob: async (input) => {
      const key = keyOf(input);
      const job = await visibleJob(input);
      const conflict = continueConflict(job);
      if (conflict) throw conflict;
      const next = (input.body as JsonBody<"continueJob">).spec;
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
      if (result.sandboxId !== null) await removeSandbox(sandboxDir(deps.dataDir, result.sandboxId));
      return { body: presentJob(result.job) };
    },
  };
}
