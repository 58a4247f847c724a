import { describe, expect, it } from "vitest";
import { aJob, anEndpoint, anEvent, aWorkspace, jobEvents, type StoreTarget, T0 } from "../target.js";

export function workspaceCases(target: StoreTarget): void {
  describe("workspaces", () => {
    it("creates a workspace, found by id and by name in its namespace", async () => {
      const store = await target.open();
      const ws = aWorkspace({ fileCount: 2, sizeBytes: 10 });
      expect(await store.workspaces.create(ws, anEvent(ws.id))).toEqual({ created: ws });
      expect(await store.workspaces.get(ws.id)).toEqual(ws);
      expect(await store.workspaces.getByName(ws.name)).toEqual(ws);
      expect(await store.workspaces.getByName(ws.name, "ws_other")).toBeNull();
      expect(await store.workspaces.get("ws_missing")).toBeNull();
    });

    it("refuses a taken id, or a taken name in the same namespace only", async () => {
      const store = await target.open();
      const ws = aWorkspace({ name: "shared" });
      await store.workspaces.create(ws, anEvent(ws.id));
      const sameId = await store.workspaces.create(aWorkspace({ id: ws.id }), anEvent(ws.id));
      expect(sameId).toEqual({ conflict: "id", existing: ws });
      const sameName = await store.workspaces.create(aWorkspace({ name: "shared" }), anEvent(ws.id));
      expect(sameName).toEqual({ conflict: "name", existing: ws });
      const scoped = aWorkspace({ name: "shared", createdAt: T0 + 1 });
      expect(await store.workspaces.create(scoped, anEvent(scoped.id), "ws_team")).toEqual({ created: scoped });
      expect(await store.workspaces.getByName("shared", "ws_team")).toEqual(scoped);
      expect(await store.workspaces.listByName("shared", 10)).toEqual([ws, scoped]);
      expect(await store.workspaces.listByName("shared", 1)).toEqual([ws]);
    });

    it("lists newest first by creation time then id, after a position, or only one workspace", async () => {
      const store = await target.open();
      const old = aWorkspace({ id: "ws_zzz_old", createdAt: T0 });
      const mid = aWorkspace({ createdAt: T0 + 1 });
      const twin = aWorkspace({ createdAt: T0 + 1 });
      const late = aWorkspace({ id: "ws_aaa_late", createdAt: T0 + 2 });
      for (const ws of [old, mid, twin, late]) await store.workspaces.create(ws, anEvent(ws.id));
      const all = await store.workspaces.list({ limit: 10 });
      expect(all.map((w) => w.id)).toEqual([late.id, twin.id, mid.id, old.id]);
      const page = await store.workspaces.list({ limit: 2, after: { createdAt: twin.createdAt, id: twin.id } });
      expect(page.map((w) => w.id)).toEqual([mid.id, old.id]);
      expect(await store.workspaces.list({ limit: 10, workspaceId: mid.id })).toEqual([mid]);
      expect(
        await store.workspaces.list({ limit: 10, workspaceId: mid.id, after: { createdAt: T0, id: "x" } }),
      ).toEqual([]);
      expect(await store.workspaces.list({ limit: 0, workspaceId: mid.id })).toEqual([]);
    });

    it("replaces contents and writes the event with the change", async () => {
      const store = await target.open();
      const ws = aWorkspace();
      await store.workspaces.create(ws, anEvent(ws.id));
      const endpoint = anEndpoint(ws.id);
      await store.webhooks.createEndpoint(endpoint, 10);
      const event = anEvent(ws.id, { type: "workspace.updated" });
      const replaced = await store.workspaces.replaceContents(
        ws.id,
        { updatedAt: T0 + 5, fileCount: 3, sizeBytes: 99 },
        event,
      );
      expect(replaced).toEqual({ ...ws, updatedAt: T0 + 5, fileCount: 3, sizeBytes: 99 });
      const deliveries = await store.webhooks.listDeliveries(endpoint.id, { limit: 10 });
      expect(deliveries.map((d) => d.eventId)).toEqual([event.id]);
      expect(
        await store.workspaces.replaceContents("ws_missing", { updatedAt: 0, fileCount: 0, sizeBytes: 0 }, event),
      ).toBeNull();
    });

    it("refuses to delete a workspace while one of its jobs is pending or running", async () => {
      const store = await target.open();
      const ws = aWorkspace();
      await store.workspaces.create(ws, anEvent(ws.id));
      const job = aJob({ workspaceId: ws.id });
      await store.jobs.create(job, null, jobEvents);
      expect(await store.workspaces.delete(ws.id)).toBe("busy");
      await store.jobs.cancel(job.id, T0 + 1, jobEvents);
      expect(await store.workspaces.delete(ws.id)).toBe("deleted");
      expect(await store.workspaces.delete(ws.id)).toBe("not_found");
      expect(await store.workspaces.get(ws.id)).toBeNull();
    });
  });
}
