import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unwrap } from "@knify/sdk/webhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../server/src/config.js";
import { createKey } from "../../server/src/keys/create-key.js";
import { createLogger } from "../../server/src/logger.js";
import { type RunningServer, startServer } from "../../server/src/server.js";

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  status: number;
}

// One receiver for both lives of the server. While "down" it answers /down with 503 and never answers /hang
// (an attempt in flight at shutdown); once "up" it answers 200.
let mode: "down" | "up" = "down";
const received: Received[] = [];
const hanging: ServerResponse[] = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const path = req.url ?? "/";
    if (mode === "down" && path === "/hang") {
      received.push({ path, headers: req.headers, raw: Buffer.concat(chunks), status: 0 });
      hanging.push(res);
      return;
    }
    const status = mode === "down" ? 503 : 200;
    received.push({ path, headers: req.headers, raw: Buffer.concat(chunks), status });
    res.statusCode = status;
    res.end();
  });
});

let dataDir: string;
let receiverUrl: string;
const logger = createLogger(process.env.KNIFY_TEST_LOG_LEVEL ?? "silent");

function env(): NodeJS.ProcessEnv {
  return {
    KNIFY_DATA_DIR: dataDir,
    KNIFY_PORT: "0",
    KNIFY_HOST: "127.0.0.1",
    KNIFY_WEBHOOK_ALLOW_PRIVATE: "1",
    // Long enough that the 503s of the first life cannot use the schedule up.
    KNIFY_WEBHOOK_RETRY_SCHEDULE_MS: Array.from({ length: 40 }, () => "50").join(","),
    KNIFY_WEBHOOK_POLL_INTERVAL_MS: "20",
    KNIFY_WEBHOOK_SHUTDOWN_GRACE_MS: "50",
    // All three /hang attempts in flight at the shutdown (the default share of one endpoint is 2).
    KNIFY_WEBHOOK_CONCURRENCY_PER_ENDPOINT: "3",
  };
}

async function start(): Promise<RunningServer> {
  const e = env();
  return startServer(loadConfig(e), logger, { env: e });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "knify-webhooks-restart-"));
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe("delivery across a restart", () => {
  it("delivers every pending delivery after the server starts again, with the same webhook-id", async () => {
    const first = await start();
    const config = loadConfig(env());
    const { apiKey } = await createKey(first.store, config, Date.now(), { name: "admin", permissions: ["admin:all"] });
    const create = async (path: string) => {
      const response = await fetch(`${first.url}/webhook-endpoints`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ url: `${receiverUrl}${path}`, workspace_id: "ws_restart" }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as { id: string; secret: string };
    };
    const down = await create("/down");
    const hang = await create("/hang");
    const eventIds = [
      "evt_01JDRESTART0000000000000001",
      "evt_01JDRESTART0000000000000002",
      "evt_01JDRESTART0000000000000003",
    ];
    for (const id of eventIds) {
      const queued = await first.store.webhooks.enqueue({
        id,
        type: "job.completed",
        workspaceId: "ws_restart",
        createdAt: Date.now(),
        data: { id: `job_${id.slice(-1)}`, status: "completed" },
      });
      expect(queued).toBe(2);
    }

    // The first life: every /down delivery was tried and refused, every /hang attempt is still in flight.
    await vi.waitFor(
      () => {
        expect(new Set(received.filter((r) => r.path === "/down").map((r) => r.headers["webhook-id"])).size).toBe(3);
        expect(received.filter((r) => r.path === "/hang")).toHaveLength(3);
      },
      { timeout: 5000, interval: 10 },
    );
    await first.close(1000);
    const firstLife = received.length;
    expect(received.every((r) => r.status !== 200)).toBe(true);

    mode = "up";
    const second = await start();
    try {
      const delivered = () => received.slice(firstLife).filter((r) => r.status === 200);
      await vi.waitFor(() => expect(delivered()).toHaveLength(6), { timeout: 5000, interval: 10 });
      for (const [path, endpoint] of [
        ["/down", down],
        ["/hang", hang],
      ] as const) {
        const requests = delivered().filter((r) => r.path === path);
        expect(requests.map((r) => r.headers["webhook-id"]).sort()).toEqual(eventIds);
        // Signed with the secret issued before the restart (decrypted with the persisted key).
        for (const r of requests) expect(unwrap(r.raw, r.headers, endpoint.secret).id).toBe(r.headers["webhook-id"]);
      }

      await vi.waitFor(async () => {
        const response = await fetch(`${second.url}/webhook-endpoints/${down.id}/deliveries`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        const list = (await response.json()) as Array<{
          status: string;
          attempts: Array<{ status_code: number | null }>;
        }>;
        expect(list.map((d) => d.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
        for (const d of list) {
          expect(d.attempts.at(-1)?.status_code).toBe(200);
          expect(d.attempts.slice(0, -1).every((a) => a.status_code === 503)).toBe(true);
          expect(d.attempts.length).toBeGreaterThan(1);
        }
      });
      // A hanging attempt aborted at shutdown is released, not counted: one attempt each, the successful one.
      const hangResponse = await fetch(`${second.url}/webhook-endpoints/${hang.id}/deliveries`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      const hangList = (await hangResponse.json()) as Array<{ status: string; attempt_count: number }>;
      expect(hangList.map((d) => [d.status, d.attempt_count])).toEqual([
        ["succeeded", 1],
        ["succeeded", 1],
        ["succeeded", 1],
      ]);
    } finally {
      await second.close(1000);
    }
  });
});
