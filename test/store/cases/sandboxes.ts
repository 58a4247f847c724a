import { describe, expect, it } from "vitest";
import { aJob, anEvent, aWorkspace, jobEvents, type StoreTarget, T0 } from "../target.js";

export function sandboxCases(target: StoreTarget): void {
  describe("sandboxes", () => {
    it("reserves a copy of the workspace at creation and refuses one past the quota", async () => {
      const store = await target.open();
      const ws = aWorkspace({ sizeBytes: 100 });
      await store.workspaces.create(ws, anEvent(ws.id));
      const first = await store.jobs.create(aJob({ workspaceId: ws.id, sandboxQuotaBytes: 250 }), null, jobEvents);
      expect("job" in first).toBe(true);
      expect(await store.sandboxes.usage(ws.id)).toEqual({ workspaceBytes: 100, sandboxBytes: 100 });
      const second = await store.jobs.create(aJob({ workspaceId: ws.id, sandboxQuotaBytes: 250 }), null, jobEvents);
      expect(second).toEqual({ overQuota: true, usedBytes: 200, neededBytes: 100, quotaBytes: 250 });
      const empty = await store.jobs.create(aJob({ workspaceId: ws.id, sandboxQuotaBytes: null }), null, jobEvents);
      expect("job" in empty).toBe(true);
      expect(await store.sandboxes.usage("ws_missing")).toEqual({ workspaceBytes: 0, sandboxBytes: 0 });
    });

    it("reserves a copy that fills the quota exactly", async () => {
      const store = await target.open();
      const ws = aWorkspace({ sizeBytes: 100 });
      await store.workspaces.create(ws, anEvent(ws.id));
      expect(
        "job" in (await store.jobs.create(aJob({ workspaceId: ws.id, sandboxQuotaBytes: 300 }), null, jobEvents)),
      ).toBe(true);
      expect(
        "job" in (await store.jobs.create(aJob({ workspaceId: ws.id, sandboxQuotaBytes: 300 }), null, jobEvents)),
      ).toBe(true);
      expect(await store.jobs.create(aJob({ workspaceId: ws.id, sandboxQuotaBytes: 300 }), null, jobEvents)).toEqual({
        overQuota: true,
        usedBytes: 300,
        neededBytes: 100,
        quotaBytes: 300,
      });
    });

    it("records measured bytes until the job is cleaned up, which frees them", async () => {
      const store = await target.open();
      const ws = aWorkspace();
      await store.workspaces.create(ws, anEvent(ws.id));
      const job = aJob({ workspaceId: ws.id });
      await store.jobs.create(job, null, jobEvents);
      await store.sandboxes.setBytes(job.id, 42);
      expect((await store.sandboxes.usage(ws.id)).sandboxBytes).toBe(42);
      await store.jobs.cleanup(job.id, T0 + 1, jobEvents);
      expect((await store.sandboxes.usage(ws.id)).sandboxBytes).toBe(0);
      await store.sandboxes.setBytes(job.id, 50);
      expect((await store.sandboxes.usage(ws.id)).sandboxBytes).toBe(0);
    });

    it("lists idle jobs oldest first and the sandboxes still live", async () => {
      const store = await target.open();
      const ids: string[] = [];
      for (const end of [T0 + 30, T0 + 10, T0 + 20]) {
        const job = aJob();
        await store.jobs.create(job, null, jobEvents);
        await store.jobs.claimNext("simulated", "r1", T0, 60_000);
        await store.jobs.markRunning(job.id, "r1", { sandboxId: `sbx_${end}`, sessionId: null, now: T0 }, jobEvents);
        await store.jobs.finish(job.id, "r1", { status: "completed", error: null, now: end }, jobEvents);
        ids.push(job.id);
      }
      const running = aJob();
      await store.jobs.create(running, null, jobEvents);
      expect(await store.sandboxes.idleJobs(T0 + 20, 10)).toEqual([ids[1], ids[2]]);
      expect(await store.sandboxes.idleJobs(T0 + 30, 1)).toEqual([ids[1]]);
      const asked = [`sbx_${T0 + 30}`, `sbx_${T0 + 10}`, `sbx_${T0 + 20}`, "sbx_NOJOB", "not_a_sandbox"];
      expect(await store.sandboxes.liveSandboxIds(asked)).toEqual(
        new Set([`sbx_${T0 + 30}`, `sbx_${T0 + 10}`, `sbx_${T0 + 20}`]),
      );
      expect(await store.sandboxes.liveSandboxIds([`sbx_${T0 + 10}`, "sbx_NOJOB"])).toEqual(
        new Set([`sbx_${T0 + 10}`]),
      );
      expect(await store.sandboxes.liveSandboxIds([])).toEqual(new Set());
      await store.jobs.cleanup(ids[0] as string, T0 + 40, jobEvents);
      expect(await store.sandboxes.liveSandboxIds(asked)).toEqual(new Set([`sbx_${T0 + 10}`, `sbx_${T0 + 20}`]));
    });
  });
}
