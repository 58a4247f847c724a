import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// #15 item 6: endpoints per workspace are capped and unique by URL, and one tenant's hung receivers hold
// only their workspace's share of the delivery slots, so another tenant's delivery goes out meanwhile.
// Real loopback receivers; the hung one never answers while the test runs.

/** A loopback receiver that records each request; `hang` keeps the response open until `stop()`. */
class Receiver {
  readonly requests: string[] = [];
  private readonly open: ServerResponse[] = [];
  private server: Server | undefined;
  url = "";

  constructor(private readonly hang: boolean) {}

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on("end", () => {
        this.requests.push(req.url ?? "/");
        if (this.hang) this.open.push(res);
        else res.end("ok");
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests received and still unanswered. */
  get hung(): number {
    return this.open.filter((res) => !res.writableEnded && !res.destroyed).length;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

let server: TestServer;
const slow = new Receiver(true);
const fast = new Receiver(false);

beforeAll(async () => {
  await Promise.all([slow.start(), fast.start()]);
  server = await startTestServer({
    env: {
      KNIFY_WEBHOOK_ALLOW_PRIVATE: "1",
      KNIFY_WEBHOOK_POLL_INTERVAL_MS: "20",
      KNIFY_WEBHOOK_CONCURRENCY: "4",
      KNIFY_WEBHOOK_CONCURRENCY_PER_WORKSPACE: "2",
      KNIFY_WEBHOOK_CONCURRENCY_PER_ENDPOINT: "1",
      KNIFY_WEBHOOK_MAX_ENDPOINTS: "6",
      // The hung receivers must stay hung for the whole test: no attempt times out and frees a slot.
      KNIFY_WEBHOOK_HEADERS_TIMEOUT_MS: "120000",
      KNIFY_WEBHOOK_SHUTDOWN_GRACE_MS: "0",
      KNIFY_RATE_LIMIT_LIVE: "100000",
    },
  });
});

afterAll(async () => {
  await server.stop();
  await Promise.all([slow.stop(), fast.stop()]);
});

const create = (url: string, workspaceId: string) =>
  call(server.url, "POST", "/webhook-endpoints", { key: server.adminKey, body: { url, workspace_id: workspaceId } });

const sendTest = (endpointId: string) =>
  call(server.url, "POST", `/webhook-endpoints/${endpointId}/test`, { key: server.adminKey });

describe("POST /webhook-endpoints limits", () => {
  it("refuses a second endpoint for the same URL in a workspace (409 webhook_url_exists), not in another", async () => {
    const first = await create(`${fast.url}/same`, "ws_dupes");
    expect(first.status).toBe(200);
    // The same target spelled differently (here with a dot segment) is the same URL once parsed.
    const again = await create(`${fast.url}/./same`, "ws_dupes");
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toContain("application/problem+json");
    expect(again.body.code).toBe("webhook_url_exists");
    expect(again.body.detail).toContain(first.body.id);
    expect((await create(`${fast.url}/same`, "ws_dupes_elsewhere")).status).toBe(200);
  });

  it("caps endpoints per workspace (409 webhook_endpoint_limit) until one is deleted", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const created = await create(`${fast.url}/cap-${i}`, "ws_cap");
      expect(created.status).toBe(200);
      ids.push(created.body.id);
    }
    const refused = await create(`${fast.url}/cap-6`, "ws_cap");
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("webhook_endpoint_limit");
    expect(refused.body.detail).toContain("(6)");
    expect((await create(`${fast.url}/cap-6`, "ws_cap_other")).status).toBe(200);

    expect((await call(server.url, "DELETE", `/webhook-endpoints/${ids[0]}`, { key: server.adminKey })).status).toBe(
      204,
    );
    expect((await create(`${fast.url}/cap-6`, "ws_cap")).status).toBe(200);
  });
});

describe("delivery fairness", () => {
  it("delivers tenant B's event while tenant A's receivers hang, A holding only its share of the slots", async () => {
    // Tenant A: three endpoints at a receiver that never answers, two test events each (6 deliveries).
    const aEndpoints: string[] = [];
    for (const path of ["/a1", "/a2", "/a3"]) {
      const created = await create(`${slow.url}${path}`, "ws_tenant_a");
      expect(created.status).toBe(200);
      aEndpoints.push(created.body.id);
    }
    for (const id of [...aEndpoints, ...aEndpoints]) expect((await sendTest(id)).status).toBe(200);
    // A fills its share (2 per workspace, 1 per endpoint) and those attempts hang.
    await vi.waitFor(() => expect(slow.hung).toBe(2), { timeout: 10_000, interval: 10 });

    // Tenant B's delivery goes out while A's are still in flight.
    const b = await create(`${fast.url}/b`, "ws_tenant_b");
    expect(b.status).toBe(200);
    expect((await sendTest(b.body.id)).status).toBe(200);
    await vi.waitFor(() => expect(fast.requests).toContain("/b"), { timeout: 10_000, interval: 10 });

    // A never had more than its share in flight, on distinct endpoints, and they are all still hung.
    expect(slow.requests).toHaveLength(2);
    expect(new Set(slow.requests).size).toBe(2);
    expect(slow.hung).toBe(2);
    const pending = await call(server.url, "GET", `/webhook-endpoints/${aEndpoints[0]}/deliveries`, {
      key: server.adminKey,
    });
    expect(pending.body.every((d: { status: string }) => d.status === "pending")).toBe(true);
  });
});
