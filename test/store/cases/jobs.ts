import { describe, expect, it } from "vitest";
import type { NewJob } from "../../../server/src/store/jobs-repo.js";
import type { Store } from "../../../server/src/store/store.js";
import { aJob, jobEvents, type StoreTarget, T0, workspaceWithEndpoint } from "../target.js";

const LEASE = 60_000;

/** Creates a job and takes its turn to running on replica `r1`. */
async function running(store: Store, overrides: Partial<NewJob> = {}) {
  const job = aJob(overrides);
  await store.jobs.create(job, null, jobEvents);
  const claimed = await store.jobs.claimNext(job.runner, "r1", T0, LEASE);
  expect(claimed?.id).toBe(job.id);
  await store.jobs.markRunning(job.id, "r1", { sandboxId: "sbx_1", sessionId: "ses_1", now: T0 + 1 }, jobEvents);
  return job;
}

const statuses = async (store: Store, id: string) =>
  (await store.jobs.events(id, 0, 100)).map((e) => (e.type === "status" ? e.data.status : e.type));

export function jobCases(target: StoreTarget): void {
  describe("jobs", () => {
    it("creates a pending job with its first events and its webhook event", async () => {
      const store = await target.open();
      const { workspaceId, endpointId } = await workspaceWithEndpoint(store);
      const job = aJob({ workspaceId });
      const result = await store.jobs.create(job, null, jobEvents);
      expect(result).toEqual({ job: await store.jobs.get(job.id) });
      expect(await store.jobs.get(job.id)).toMatchObject({
        status: "pending",
        turns: 1,
        createdAt: T0,
        startedAt: null,
        claimedBy: null,
        testMode: false,
        error: null,
        result: null,
        usage: null,
      });
      const events = await store.jobs.events(job.id, 0, 10);
      expect(events.map((e) => [e.seq, e.type, e.data])).toEqual([
        [1, "status", { status: "pending" }],
        [2, "turn", { turn: 1, prompt: "hello" }],
      ]);
      const deliveries = await store.webhooks.listDeliveries(endpointId, { limit: 10 });
      expect(deliveries.map((d) => d.eventType)).toContain("job.created");
    });

    it("refuses a test-mode job past the workspace's cap of unfinished test jobs", async () => {
      const store = await target.open();
      expect("job" in (await store.jobs.create(aJob({ workspaceId: "ws_t", testMode: true }), 1, jobEvents))).toBe(
        true,
      );
      expect(await store.jobs.create(aJob({ workspaceId: "ws_t", testMode: true }), 1, jobEvents)).toEqual({
        limited: true,
        active: 1,
      });
      expect("job" in (await store.jobs.create(aJob({ workspaceId: "ws_t", testMode: false }), 1, jobEvents))).toBe(
        true,
      );
      expect("job" in (await store.jobs.create(aJob({ workspaceId: "ws_u", testMode: true }), 1, jobEvents))).toBe(
        true,
      );
    });

    it("lists newest first, by workspace and status, paged by id", async () => {
      const store = await target.open();
      const a = aJob({ workspaceId: "ws_a" });
      const b = aJob({ workspaceId: "ws_b" });
      const c = aJob({ workspaceId: "ws_a" });
      for (const job of [a, b, c]) await store.jobs.create(job, null, jobEvents);
      await store.jobs.cancel(c.id, T0, jobEvents);
      const ids = async (q: Parameters<Store["jobs"]["list"]>[0]) => (await store.jobs.list(q)).map((j) => j.id);
      expect(await ids({ limit: 10 })).toEqual([c.id, b.id, a.id]);
      expect(await ids({ limit: 10, before: c.id })).toEqual([b.id, a.id]);
      expect(await ids({ limit: 10, workspaceId: "ws_a" })).toEqual([c.id, a.id]);
      expect(await ids({ limit: 10, status: "pending" })).toEqual([b.id, a.id]);
      expect(await ids({ limit: 10, workspaceId: "ws_a", status: "failed" })).toEqual([c.id]);
      expect(await ids({ limit: 1 })).toEqual([c.id]);
    });

    it("claims the oldest queued turn of a runner, once", async () => {
      const store = await target.open();
      const first = aJob({ now: T0 });
      const second = aJob({ now: T0 + 1 });
      const other = aJob({ runner: "command" });
      for (const job of [second, first, other]) await store.jobs.create(job, null, jobEvents);
      const claimed = await store.jobs.claimNext("simulated", "r1", T0 + 5, LEASE);
      expect(claimed).toMatchObject({ id: first.id, claimedBy: "r1", leaseUntil: T0 + 5 + LEASE, status: "pending" });
      expect((await store.jobs.claimNext("simulated", "r2", T0 + 5, LEASE))?.id).toBe(second.id);
      expect(await store.jobs.claimNext("simulated", "r2", T0 + 5, LEASE)).toBeNull();
      expect((await store.jobs.claimNext("command", "r2", T0 + 5, LEASE))?.id).toBe(other.id);
    });

    it("gives each queued turn to exactly one of many parallel claims", async () => {
      const store = await target.open();
      for (let i = 0; i < 5; i++) await store.jobs.create(aJob({ now: T0 + i }), null, jobEvents);
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) => store.jobs.claimNext("simulated", `r${i}`, T0, LEASE)),
      );
      const ids = claims.flatMap((c) => (c ? [c.id] : []));
      expect(ids).toHaveLength(5);
      expect(new Set(ids).size).toBe(5);
    });

    it("runs and ends a turn only for the replica that claimed it", async () => {
      const store = await target.open();
      const job = aJob();
      await store.jobs.create(job, null, jobEvents);
      await store.jobs.claimNext("simulated", "r1", T0, LEASE);
      const run = { sandboxId: "sbx_1", sessionId: "ses_1", now: T0 + 1 };
      expect(await store.jobs.markRunning(job.id, "r2", run, jobEvents)).toBeNull();
      expect(await store.jobs.markRunning(job.id, "r1", run, jobEvents)).toMatchObject({
        status: "running",
        startedAt: T0 + 1,
        sandboxId: "sbx_1",
        sessionId: "ses_1",
      });
      const end = { status: "completed" as const, error: null, result: "done", usage: null, now: T0 + 2 };
      expect(await store.jobs.finish(job.id, "r2", end, jobEvents)).toBeNull();
      expect(await store.jobs.finish(job.id, "r1", end, jobEvents)).toMatchObject({
        status: "completed",
        completedAt: T0 + 2,
        result: "done",
        claimedBy: null,
        leaseUntil: null,
        error: null,
      });
      expect(await statuses(store, job.id)).toEqual(["pending", "turn", "running", "completed"]);
      expect((await store.jobs.events(job.id, 0, 100)).at(-1)?.data).toEqual({ status: "completed" });
    });

    it("fails a turn with the runner's error, or a generic one, and keeps usage", async () => {
      const store = await target.open();
      const job = await running(store);
      const usage = { input_tokens: 1, output_tokens: 2 };
      const failed = await store.jobs.finish(
        job.id,
        "r1",
        { status: "failed", error: null, usage, now: T0 + 2 },
        jobEvents,
      );
      expect(failed?.error).toEqual({ code: "agent_failed", message: "the turn failed" });
      expect(failed?.usage).toEqual(usage);
      const last = (await store.jobs.events(job.id, 3, 10))[0];
      expect(last?.data).toEqual({ status: "failed", error: { code: "agent_failed", message: "the turn failed" } });
    });

    it("keeps the first session a job reports and finds jobs by session", async () => {
      const store = await target.open();
      const job = await running(store, { workspaceId: "ws_s" });
      await store.jobs.setSession(job.id, "ses_agent");
      expect(await store.jobs.hasSession("ses_agent", null)).toBe(true);
      expect(await store.jobs.hasSession("ses_agent", "ws_s")).toBe(true);
      expect(await store.jobs.hasSession("ses_agent", "ws_other")).toBe(false);
      await store.jobs.finish(job.id, "r1", { status: "completed", error: null, now: T0 + 2 }, jobEvents);
      await store.jobs.continue(
        job.id,
        { spec: job.spec, runner: "simulated", testMode: false, now: T0 + 3 },
        null,
        jobEvents,
      );
      await store.jobs.claimNext("simulated", "r1", T0 + 3, LEASE);
      const again = await store.jobs.markRunning(
        job.id,
        "r1",
        { sandboxId: "sbx_1", sessionId: "ses_new", now: T0 + 4 },
        jobEvents,
      );
      expect(again?.sessionId).toBe("ses_agent");
    });

    it("continues only a finished job that still has its sandbox", async () => {
      const store = await target.open();
      const job = await running(store);
      const turn = {
        spec: { job_type: "cursor_task" as const, prompt: "again" },
        runner: "simulated",
        testMode: false,
        now: T0 + 5,
      };
      const busy = await store.jobs.continue(job.id, turn, null, jobEvents);
      expect(busy).toMatchObject({ conflict: "not_finished", job: { id: job.id } });
      await store.jobs.finish(job.id, "r1", { status: "completed", error: null, result: "x", now: T0 + 2 }, jobEvents);
      const next = await store.jobs.continue(job.id, turn, null, jobEvents);
      expect(next).toMatchObject({
        job: { status: "pending", turns: 2, result: null, completedAt: null, startedAt: null, spec: turn.spec },
      });
      expect((await store.jobs.events(job.id, 4, 10)).map((e) => e.data)).toEqual([
        { status: "pending" },
        { turn: 2, prompt: "again" },
      ]);
      expect((await store.jobs.claimNext("simulated", "r1", T0 + 6, LEASE))?.id).toBe(job.id);
      expect(await store.jobs.continue("job_missing", turn, null, jobEvents)).toBeNull();
      await store.jobs.cleanup(job.id, T0 + 7, jobEvents);
      expect(await store.jobs.continue(job.id, turn, null, jobEvents)).toMatchObject({ conflict: "cleaned_up" });
    });

    it("continues a failed job as well as a completed one", async () => {
      const store = await target.open();
      const job = await running(store);
      await store.jobs.finish(job.id, "r1", { status: "failed", error: null, now: T0 + 2 }, jobEvents);
      const turn = {
        spec: { job_type: "cursor_task" as const, prompt: "retry" },
        runner: "simulated",
        testMode: false,
        now: T0 + 3,
      };
      expect(await store.jobs.continue(job.id, turn, null, jobEvents)).toMatchObject({
        job: { id: job.id, status: "pending", turns: 2, error: null },
      });
    });

    it("cancels a pending or running turn, keeping the sandbox, and refuses a finished one", async () => {
      const store = await target.open();
      const job = await running(store);
      const cancelled = await store.jobs.cancel(job.id, T0 + 3, jobEvents);
      expect(cancelled).toMatchObject({
        job: { status: "failed", error: { code: "cancelled" }, sandboxId: "sbx_1", cleanedUpAt: null, claimedBy: null },
      });
      expect(await store.jobs.cancel(job.id, T0 + 4, jobEvents)).toMatchObject({ conflict: true });
      expect(await store.jobs.cancel("job_missing", T0, jobEvents)).toBeNull();
      // The replica that ran it finds its turn gone.
      expect(
        await store.jobs.finish(job.id, "r1", { status: "completed", error: null, now: T0 + 5 }, jobEvents),
      ).toBeNull();
    });

    it("cleans up: stops a running turn, forgets the sandbox, and does it once", async () => {
      const store = await target.open();
      const job = await running(store);
      const cleaned = await store.jobs.cleanup(job.id, T0 + 3, jobEvents);
      expect(cleaned).toMatchObject({
        sandboxId: "sbx_1",
        stopped: true,
        job: { status: "failed", error: { code: "cleaned_up" }, cleanedUpAt: T0 + 3, sandboxId: null },
      });
      expect(await statuses(store, job.id)).toEqual(["pending", "turn", "running", "failed", "system"]);
      expect((await store.jobs.events(job.id, 0, 100)).at(-1)?.data).toEqual({ message: "sandbox deleted" });
      expect(await store.jobs.cleanup(job.id, T0 + 4, jobEvents)).toMatchObject({ sandboxId: null, stopped: false });
      expect(
        await store.jobs.markRunning(job.id, "r1", { sandboxId: "s", sessionId: null, now: T0 }, jobEvents),
      ).toBeNull();
      expect(await store.jobs.cleanup("job_missing", T0, jobEvents)).toBeNull();
    });

    it("cleans up for the idle sweep only a job still idle since the cutoff", async () => {
      const store = await target.open();
      const job = await running(store);
      expect(await store.jobs.cleanup(job.id, T0 + 9, jobEvents, T0 + 5)).toBeNull();
      await store.jobs.finish(job.id, "r1", { status: "completed", error: null, now: T0 + 6 }, jobEvents);
      expect(await store.jobs.cleanup(job.id, T0 + 9, jobEvents, T0 + 5)).toBeNull();
      const cleaned = await store.jobs.cleanup(job.id, T0 + 9, jobEvents, T0 + 6);
      expect(cleaned).toMatchObject({ stopped: false, sandboxId: "sbx_1", job: { status: "completed" } });
      const last = (await store.jobs.events(job.id, 0, 100)).at(-1);
      expect(last?.data).toEqual({ message: "sandbox deleted: idle longer than its TTL" });
      expect(await store.jobs.cleanup(job.id, T0 + 9, jobEvents, T0 + 6)).toBeNull();
    });

    it("gives a claimed turn back to the queue", async () => {
      const store = await target.open();
      const job = aJob();
      await store.jobs.create(job, null, jobEvents);
      await store.jobs.claimNext("simulated", "r1", T0, LEASE);
      await store.jobs.release(job.id, "r2");
      expect(await store.jobs.claimNext("simulated", "r2", T0, LEASE)).toBeNull();
      await store.jobs.release(job.id, "r1");
      expect((await store.jobs.claimNext("simulated", "r2", T0, LEASE))?.claimedBy).toBe("r2");
    });

    it("appends events with gapless sequence numbers and reads them after a position", async () => {
      const store = await target.open();
      const job = aJob();
      await store.jobs.create(job, null, jobEvents);
      await store.jobs.appendEvents(job.id, [], T0 + 1);
      await store.jobs.appendEvents(
        job.id,
        [
          { type: "output", data: { text: "a" } },
          { type: "output", data: { text: "b" } },
        ],
        T0 + 1,
      );
      const events = await store.jobs.events(job.id, 2, 10);
      expect(events).toEqual([
        { jobId: job.id, seq: 3, type: "output", data: { text: "a" }, createdAt: T0 + 1 },
        { jobId: job.id, seq: 4, type: "output", data: { text: "b" }, createdAt: T0 + 1 },
      ]);
      expect((await store.jobs.events(job.id, 0, 1)).map((e) => e.seq)).toEqual([1]);
      expect(await store.jobs.events("job_missing", 0, 10)).toEqual([]);
    });

    it("keeps parallel appends gapless", async () => {
      const store = await target.open();
      const job = aJob();
      await store.jobs.create(job, null, jobEvents);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.jobs.appendEvents(job.id, [{ type: "output", data: { i } }], T0)),
      );
      expect((await store.jobs.events(job.id, 0, 100)).map((e) => e.seq)).toEqual(
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
    });

    it("renews a replica's leases and recovers the turns of a replica that died", async () => {
      const store = await target.open();
      const runningJob = await running(store);
      const queued = aJob();
      await store.jobs.create(queued, null, jobEvents);
      await store.jobs.claimNext("simulated", "r1", T0, LEASE);
      expect((await store.jobs.renewLeases("r1", T0 + 10, LEASE)).sort()).toEqual([runningJob.id, queued.id].sort());
      expect(await store.jobs.renewLeases("r2", T0 + 10, LEASE)).toEqual([]);
      // Another replica sees nothing to recover while the lease holds …
      expect(await store.jobs.recover("r2", T0 + 10 + LEASE - 1, "lost", jobEvents)).toEqual({
        failed: [],
        requeued: [],
      });
      // … and, once it ran out, fails the running turn and requeues the claimed one.
      const recovered = await store.jobs.recover(null, T0 + 10 + LEASE + 1, "the replica died", jobEvents);
      expect(recovered).toEqual({ failed: [runningJob.id], requeued: [queued.id] });
      expect(await store.jobs.get(runningJob.id)).toMatchObject({
        status: "failed",
        error: { code: "interrupted", message: "the replica died" },
        claimedBy: null,
      });
      expect((await store.jobs.get(queued.id))?.claimedBy).toBeNull();
      expect((await store.jobs.claimNext("simulated", "r2", T0, LEASE))?.id).toBe(queued.id);
    });

    it("recovers its own replica's turns at restart, expired or not", async () => {
      const store = await target.open();
      const job = await running(store);
      expect(await store.jobs.recover("r1", T0 + 2, "restarted", jobEvents)).toEqual({
        failed: [job.id],
        requeued: [],
      });
      const log = await store.jobs.events(job.id, 3, 10);
      expect(log.map((e) => e.data)).toEqual([
        { message: "restarted" },
        { status: "failed", error: { code: "interrupted", message: "restarted" } },
      ]);
    });
  });
}
