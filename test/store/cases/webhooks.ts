import { describe, expect, it } from "vitest";
import type { Store } from "../../../server/src/store/store.js";
import { anEndpoint, anEvent, type StoreTarget, T0 } from "../target.js";

const FAIR = { perWorkspace: 100, perEndpoint: 100 };
const LEASE = 30_000;
const ATTEMPT = { at: T0 + 1, statusCode: 200, error: null, durationMs: 5 };

async function endpointOf(store: Store, workspaceId: string, overrides: Parameters<typeof anEndpoint>[1] = {}) {
  const endpoint = anEndpoint(workspaceId, overrides);
  const created = await store.webhooks.createEndpoint(endpoint, 10);
  if (!("id" in created)) throw new Error(`endpoint refused: ${JSON.stringify(created)}`);
  return created;
}

export function webhookCases(target: StoreTarget): void {
  describe("webhook endpoints", () => {
    it("creates endpoints up to the workspace's cap, refusing a URL it already has (as parsed)", async () => {
      const store = await target.open();
      const first = await endpointOf(store, "ws_a", {
        url: "https://hooks.example.com:443/x",
        eventTypes: ["job.failed"],
      });
      expect(first).toMatchObject({
        enabled: true,
        disabledReason: null,
        eventTypes: ["job.failed"],
        workspaceId: "ws_a",
      });
      expect(first).not.toHaveProperty("sealedSecret");
      const same = await store.webhooks.createEndpoint(anEndpoint("ws_a", { url: "HTTPS://HOOKS.example.com/x" }), 10);
      expect(same).toEqual({ refused: "duplicate", existingId: first.id });
      await endpointOf(store, "ws_b", { url: "https://hooks.example.com/x" });
      expect(await store.webhooks.createEndpoint(anEndpoint("ws_a"), 1)).toEqual({ refused: "limit", count: 1 });
      expect(await store.webhooks.getEndpoint(first.id)).toEqual(first);
      expect(await store.webhooks.getEndpoint("we_missing")).toBeNull();
    });

    it("lists newest first, by workspace, paged by id", async () => {
      const store = await target.open();
      const a = await endpointOf(store, "ws_a");
      const b = await endpointOf(store, "ws_b");
      const c = await endpointOf(store, "ws_a");
      expect((await store.webhooks.listEndpoints({ limit: 10 })).map((e) => e.id)).toEqual([c.id, b.id, a.id]);
      expect(
        (await store.webhooks.listEndpoints({ limit: 10, workspaceId: "ws_a", before: c.id })).map((e) => e.id),
      ).toEqual([a.id]);
    });

    it("updates in place; disabling records why and fails pending deliveries; enabling clears the reason", async () => {
      const store = await target.open();
      const endpoint = await endpointOf(store, "ws_a", { description: "old" });
      const other = await endpointOf(store, "ws_a");
      expect(await store.webhooks.updateEndpoint(endpoint.id, { url: other.url })).toEqual({
        refused: "duplicate",
        existingId: other.id,
      });
      const changed = await store.webhooks.updateEndpoint(endpoint.id, {
        url: "https://new.example.com/",
        eventTypes: ["job.completed"],
        description: null,
      });
      expect(changed).toMatchObject({
        url: "https://new.example.com/",
        eventTypes: ["job.completed"],
        description: null,
      });
      const delivery = await store.webhooks.enqueueFor(endpoint.id, anEvent("ws_a", { type: "webhook.test" }));
      const disabled = await store.webhooks.updateEndpoint(endpoint.id, {
        enabled: { enabled: false, reason: "paused" },
      });
      expect(disabled).toMatchObject({ enabled: false, disabledReason: "paused" });
      expect((await store.webhooks.getDelivery(endpoint.id, delivery?.id ?? ""))?.status).toBe("failed");
      const enabled = await store.webhooks.updateEndpoint(endpoint.id, { enabled: { enabled: true } });
      expect(enabled).toMatchObject({ enabled: true, disabledReason: null, url: "https://new.example.com/" });
      expect(await store.webhooks.updateEndpoint("we_missing", { description: "x" })).toBeNull();
    });

    it("deletes an endpoint with its deliveries", async () => {
      const store = await target.open();
      const endpoint = await endpointOf(store, "ws_a");
      const delivery = await store.webhooks.enqueueFor(endpoint.id, anEvent("ws_a"));
      expect(await store.webhooks.deleteEndpoint(endpoint.id)).toBe(true);
      expect(await store.webhooks.deleteEndpoint(endpoint.id)).toBe(false);
      expect(await store.webhooks.getDelivery(endpoint.id, delivery?.id ?? "")).toBeNull();
      expect(await store.webhooks.claimDue(T0 + 1, 10, LEASE, FAIR)).toEqual([]);
    });
  });

  describe("webhook outbox", () => {
    it("queues an event for each enabled endpoint of its workspace that wants its type", async () => {
      const store = await target.open();
      const all = await endpointOf(store, "ws_a");
      const failedOnly = await endpointOf(store, "ws_a", { eventTypes: ["job.failed"] });
      const disabled = await endpointOf(store, "ws_a");
      await store.webhooks.updateEndpoint(disabled.id, { enabled: { enabled: false, reason: "off" } });
      await endpointOf(store, "ws_b");
      expect(await store.webhooks.enqueue(anEvent("ws_a", { type: "job.completed" }))).toBe(1);
      expect(await store.webhooks.enqueue(anEvent("ws_a", { type: "job.failed" }))).toBe(2);
      expect(await store.webhooks.enqueue(anEvent("ws_none"))).toBe(0);
      const deliveries = await store.webhooks.listDeliveries(all.id, { limit: 10 });
      expect(deliveries.map((d) => d.eventType)).toEqual(["job.failed", "job.completed"]);
      expect(deliveries[0]).toMatchObject({ status: "pending", attemptCount: 0, nextAttemptAt: T0, attempts: [] });
      // Delivery ids are what the API's {delivery_id} accepts.
      for (const delivery of deliveries) expect(delivery.id).toMatch(/^dlv_[A-Za-z0-9]+$/);
      expect(await store.webhooks.listDeliveries(failedOnly.id, { limit: 10 })).toHaveLength(1);
      expect(await store.webhooks.listDeliveries(disabled.id, { limit: 10 })).toHaveLength(0);
      expect(
        (await store.webhooks.listDeliveries(all.id, { limit: 10, before: deliveries[0]?.id as string })).map(
          (d) => d.eventType,
        ),
      ).toEqual(["job.completed"]);
    });

    it("queues a test event for one endpoint even when disabled", async () => {
      const store = await target.open();
      const endpoint = await endpointOf(store, "ws_a");
      await store.webhooks.updateEndpoint(endpoint.id, { enabled: { enabled: false, reason: "off" } });
      const event = anEvent("ws_a", { type: "webhook.test" });
      const delivery = await store.webhooks.enqueueFor(endpoint.id, event);
      expect(delivery).toMatchObject({
        endpointId: endpoint.id,
        eventId: event.id,
        eventType: "webhook.test",
        status: "pending",
      });
      expect(delivery?.id).toMatch(/^dlv_[A-Za-z0-9]+$/);
      expect(await store.webhooks.enqueueFor("we_missing", anEvent("ws_a"))).toBeNull();
    });

    it("tells subscribers after a delivery is queued, until they unsubscribe", async () => {
      const store = await target.open();
      await endpointOf(store, "ws_a");
      let calls = 0;
      let woken: () => void = () => {};
      const unsubscribe = store.webhooks.onEnqueued(() => {
        calls++;
        woken();
      });
      const wake = new Promise<void>((resolve) => {
        woken = resolve;
      });
      await store.webhooks.enqueue(anEvent("ws_a"));
      await wake;
      expect(calls).toBeGreaterThanOrEqual(1);
      unsubscribe();
      const before = calls;
      await store.webhooks.enqueue(anEvent("ws_a"));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(calls).toBe(before);
      await store.close();
    });

    it("leases a due delivery to one claimer with its envelope, until the lease runs out", async () => {
      const store = await target.open();
      const endpoint = await endpointOf(store, "ws_a");
      const event = anEvent("ws_a", { createdAt: T0 + 10, data: { n: 1 } });
      await store.webhooks.enqueue(event);
      expect(await store.webhooks.claimDue(T0 + 9, 10, LEASE, FAIR)).toEqual([]);
      const [claim, ...more] = await store.webhooks.claimDue(T0 + 10, 10, LEASE, FAIR);
      expect(more).toEqual([]);
      expect(claim).toMatchObject({
        eventId: event.id,
        roundAttempts: 0,
        endpointId: endpoint.id,
        url: endpoint.url,
        sealedSecret: "sealed:v1:opaque",
      });
      expect(JSON.parse(claim?.body ?? "")).toEqual({
        id: event.id,
        type: "workspace.updated",
        created_at: "2025-11-17T10:00:00Z",
        data: { n: 1 },
      });
      expect(await store.webhooks.claimDue(T0 + 11, 10, LEASE, FAIR)).toEqual([]);
      const again = await store.webhooks.claimDue(T0 + 10 + LEASE, 10, LEASE, FAIR);
      expect(again.map((c) => c.id)).toEqual([claim?.id]);
      expect(again[0]?.claimToken).not.toBe(claim?.claimToken);
    });

    it("records attempts: success settles, a retry is due later, a stale lease only logs", async () => {
      const store = await target.open();
      const endpoint = await endpointOf(store, "ws_a");
      await store.webhooks.enqueue(anEvent("ws_a"));
      const [first] = await store.webhooks.claimDue(T0, 10, LEASE, FAIR);
      if (!first) throw new Error("nothing claimed");
      await store.webhooks.recordAttempt(first, { ...ATTEMPT, statusCode: 500 }, { next: "retry", at: T0 + 100 });
      let delivery = await store.webhooks.getDelivery(endpoint.id, first.id);
      expect(delivery).toMatchObject({ status: "pending", attemptCount: 1, nextAttemptAt: T0 + 100 });
      expect(delivery?.attempts).toEqual([{ ...ATTEMPT, statusCode: 500 }]);
      expect(await store.webhooks.claimDue(T0 + 99, 10, LEASE, FAIR)).toEqual([]);
      const [second] = await store.webhooks.claimDue(T0 + 100, 10, LEASE, FAIR);
      expect(second?.roundAttempts).toBe(1);
      // The first lease is long gone: its late result is logged and decides nothing.
      await store.webhooks.recordAttempt(first, ATTEMPT, { next: "succeeded" });
      expect((await store.webhooks.getDelivery(endpoint.id, first.id))?.status).toBe("pending");
      if (!second) throw new Error("nothing claimed");
      await store.webhooks.recordAttempt(second, ATTEMPT, { next: "succeeded" });
      delivery = await store.webhooks.getDelivery(endpoint.id, first.id);
      expect(delivery).toMatchObject({ status: "succeeded", attemptCount: 3, nextAttemptAt: null });
      expect(delivery?.attempts).toHaveLength(3);
    });

    it("disables the endpoint on a final failure that says so, failing its other deliveries", async () => {
      const store = await target.open();
      const endpoint = await endpointOf(store, "ws_a");
      await store.webhooks.enqueue(anEvent("ws_a"));
      await store.webhooks.enqueue(anEvent("ws_a"));
      const [claim] = await store.webhooks.claimDue(T0, 1, LEASE, FAIR);
      if (!claim) throw new Error("nothing claimed");
      await store.webhooks.recordAttempt(
        claim,
        { ...ATTEMPT, statusCode: 410 },
        { next: "failed", disableEndpoint: "gone" },
      );
      expect(await store.webhooks.getEndpoint(endpoint.id)).toMatchObject({ enabled: false, disabledReason: "gone" });
      const statuses = (await store.webhooks.listDeliveries(endpoint.id, { limit: 10 })).map((d) => d.status);
      expect(statuses).toEqual(["failed", "failed"]);
      expect(await store.webhooks.claimDue(T0 + 1, 10, LEASE, FAIR)).toEqual([]);
    });

    it("redelivers any delivery from a fresh schedule, and takes a released lease back", async () => {
      const store = await target.open();
      const endpoint = await endpointOf(store, "ws_a");
      await store.webhooks.enqueue(anEvent("ws_a"));
      const [claim] = await store.webhooks.claimDue(T0, 10, LEASE, FAIR);
      if (!claim) throw new Error("nothing claimed");
      await store.webhooks.recordAttempt(claim, ATTEMPT, { next: "failed" });
      const redelivered = await store.webhooks.redeliver(endpoint.id, claim.id, T0 + 50);
      expect(redelivered).toMatchObject({ status: "pending", nextAttemptAt: T0 + 50, attemptCount: 1 });
      expect(await store.webhooks.redeliver("we_other", claim.id, T0)).toBeNull();
      const [again] = await store.webhooks.claimDue(T0 + 50, 10, LEASE, FAIR);
      expect(again?.roundAttempts).toBe(0);
      if (!again) throw new Error("nothing claimed");
      await store.webhooks.release({ id: again.id, claimToken: "not-the-token" });
      expect(await store.webhooks.claimDue(T0 + 51, 10, LEASE, FAIR)).toEqual([]);
      await store.webhooks.release(again);
      expect((await store.webhooks.claimDue(T0 + 51, 10, LEASE, FAIR)).map((c) => c.id)).toEqual([again.id]);
    });

    it("leases fairly: at most the endpoint's and workspace's share, round-robin over workspaces", async () => {
      const store = await target.open();
      const busyA = await endpointOf(store, "ws_a");
      const quietA = await endpointOf(store, "ws_a");
      const b = await endpointOf(store, "ws_b");
      for (let i = 0; i < 4; i++) await store.webhooks.enqueueFor(busyA.id, anEvent("ws_a", { createdAt: T0 + i }));
      await store.webhooks.enqueueFor(quietA.id, anEvent("ws_a", { createdAt: T0 + 5 }));
      await store.webhooks.enqueueFor(b.id, anEvent("ws_b", { createdAt: T0 + 9 }));
      const fairness = { perWorkspace: 3, perEndpoint: 2 };
      const endpoints = async (at: number, limit: number) =>
        (await store.webhooks.claimDue(at, limit, LEASE, fairness)).map((c) => c.endpointId).sort();
      // Round-robin: the first turn takes each workspace's oldest, however much more ws_a has due.
      expect(await endpoints(T0 + 10, 2)).toEqual([busyA.id, b.id].sort());
      // Then busyA's second (its share is 2) and quietA's first: ws_a's share of 3 is full.
      expect(await endpoints(T0 + 10, 10)).toEqual([busyA.id, quietA.id].sort());
      expect(await endpoints(T0 + 11, 10)).toEqual([]);
      // Once the leases run out, each share is open again: the oldest due of each endpoint, within both shares.
      expect(await endpoints(T0 + 10 + LEASE, 10)).toEqual([busyA.id, busyA.id, quietA.id, b.id].sort());
    });

    it("never leases one delivery to two parallel claimers", async () => {
      const store = await target.open();
      await endpointOf(store, "ws_a");
      await endpointOf(store, "ws_b");
      for (let i = 0; i < 6; i++) await store.webhooks.enqueue(anEvent(i % 2 ? "ws_a" : "ws_b"));
      const batches = await Promise.all(
        Array.from({ length: 6 }, () => store.webhooks.claimDue(T0 + 1, 2, LEASE, FAIR)),
      );
      const ids = batches.flat().map((c) => c.id);
      expect(ids).toHaveLength(6);
      expect(new Set(ids).size).toBe(6);
    });
  });
}
