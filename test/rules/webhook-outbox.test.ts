import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { rawTarGz } from "../fixtures/archives/raw-tar.js";
import { call } from "../support/http.js";
import { startReceiver } from "../support/receiver.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 17, from the mutation run of the store's outbox: every other webhook test polls the outbox every
// 20 ms, so a delivery that was queued but never woke the worker still went out. Here the worker polls once a
// minute (the most KNIFY_WEBHOOK_POLL_INTERVAL_MS allows): a delivery within the wait below can only come
// from the wake-up that queueing it must send.

let server: TestServer;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  receiver = await startReceiver();
  server = await startTestServer({
    env: { KNIFY_WEBHOOK_ALLOW_PRIVATE: "1", KNIFY_WEBHOOK_POLL_INTERVAL_MS: "60000" },
  });
});
afterAll(async () => {
  await server.stop();
  await receiver.stop();
});

const arrived = (path: string, count: number) =>
  vi.waitFor(() => expect(receiver.hits.filter((h) => h.path === path)).toHaveLength(count), {
    timeout: 15_000,
    interval: 20,
  });

describe("queueing a delivery wakes the worker", () => {
  it("for POST /webhook-endpoints/{id}/test and for a redelivery", async () => {
    const endpoint = await call(server.url, "POST", "/webhook-endpoints", {
      key: server.adminKey,
      body: { url: `${receiver.url}/test`, workspace_id: "ws_wake" },
    });
    expect(endpoint.status).toBe(200);
    const queued = await call(server.url, "POST", `/webhook-endpoints/${endpoint.body.id}/test`, {
      key: server.adminKey,
    });
    await arrived("/test", 1);
    await vi.waitFor(
      async () => {
        const list = await call(server.url, "GET", `/webhook-endpoints/${endpoint.body.id}/deliveries`, {
          key: server.adminKey,
        });
        expect(list.body[0]?.status).toBe("succeeded");
      },
      { timeout: 15_000, interval: 20 },
    );
    const again = await call(
      server.url,
      "POST",
      `/webhook-endpoints/${endpoint.body.id}/deliveries/${queued.body.id}/redeliver`,
      { key: server.adminKey },
    );
    expect(again.status).toBe(200);
    await arrived("/test", 2);
  });

  it("for an event a change writes with it (workspace.updated on an upload)", async () => {
    const admin = await server.key({ workspaceId: "ws_wake_events", permissions: ["admin:all"] });
    const endpoint = await call(server.url, "POST", "/webhook-endpoints", {
      key: admin.apiKey,
      body: { url: `${receiver.url}/events`, event_types: ["workspace.updated"] },
    });
    expect(endpoint.status).toBe(200);
    const form = new FormData();
    form.set("name", "wake-events");
    form.set("workspace", new Blob([rawTarGz([{ path: "proj/a.txt", data: "a" }])]), "ws.tar.gz");
    const upload = await fetch(`${server.url}/workspaces`, {
      method: "POST",
      headers: { Authorization: `Bearer ${admin.apiKey}` },
      body: form,
    });
    expect(upload.status).toBe(200);
    await arrived("/events", 1);
  });
});
