import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { unwrap } from "@knify/sdk/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config.js";
import { createKey } from "../../server/src/keys/create-key.js";
import { createLogger } from "../../server/src/logger.js";
import { startServer } from "../../server/src/server.js";
import { call } from "../support/http.js";
import { seedVerifyWebhook } from "../support/seed-python.js";
import { until } from "../support/until.js";

// The durability case in one story: the server stops with webhook deliveries pending AND a job
// running; after a start on the same data dir every delivery arrives (same webhook-id) and no job is stuck.
const agent = join(import.meta.dirname, "..", "fixtures", "agents", "fake-agent.mjs");
const received: { headers: IncomingHttpHeaders; raw: Buffer }[] = [];
let up = false;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    if (up) received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
    res.statusCode = up ? 200 : 503;
    res.end();
  });
});

const dataDir = mkdtempSync(join(tmpdir(), "knify-restart-all-"));
const env: NodeJS.ProcessEnv = {
  KNIFY_DATA_DIR: dataDir,
  KNIFY_PORT: "0",
  KNIFY_HOST: "127.0.0.1",
  KNIFY_RUNNER: "command",
  KNIFY_AGENT_COMMAND: `"${process.execPath}" "${agent}"`,
  // Jailed: the fixture is mounted read-only at its own path.
  KNIFY_SANDBOX_READONLY_PATHS: dirname(agent),
  KNIFY_WEBHOOK_ALLOW_PRIVATE: "1",
  KNIFY_WEBHOOK_RETRY_SCHEDULE_MS: Array.from({ length: 40 }, () => "50").join(","),
  KNIFY_WEBHOOK_POLL_INTERVAL_MS: "20",
  KNIFY_WEBHOOK_SHUTDOWN_GRACE_MS: "50",
};
const logger = createLogger("silent");

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

describe("a restart with deliveries pending and a job running", () => {
  it("delivers every event once the receiver is up, signed as before, and leaves no job running", async () => {
    const first = await startServer(loadConfig(env), logger, { env });
    const { apiKey } = await createKey(first.store, loadConfig(env), Date.now(), {
      name: "r",
      workspaceId: "ws_restart",
    });
    const api = (method: string, path: string, body?: unknown) =>
      call(first.url, method, path, { key: apiKey, ...(body ? { body } : {}) });
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const endpoint = await api("POST", "/webhook-endpoints", { url: hook });
    expect(endpoint.status).toBe(200);
    const job = await api("POST", "/jobs", { spec: { job_type: "cursor_task", prompt: "say:working;sleep:30000" } });
    await until("the job to run", async () =>
      (await api("GET", `/jobs/${job.body.job_id}`)).body.status === "running" ? true : undefined,
    );
    const pending = await api("GET", `/webhook-endpoints/${endpoint.body.id}/deliveries`);
    const before = pending.body.map((d: { event_id: string }) => d.event_id).sort();
    expect(before.length).toBeGreaterThanOrEqual(2); // job.created, job.running, each refused with 503 so far
    await first.close(1000);

    up = true;
    const second = await startServer(loadConfig(env), logger, { env });
    try {
      const after = (method: string, path: string) => call(second.url, method, path, { key: apiKey });
      const recovered = await after("GET", `/jobs/${job.body.job_id}`);
      expect(recovered.body.status).toBe("failed");
      expect(recovered.body.error).toMatchObject({ code: "interrupted", message: expect.stringMatching(/restarted/) });
      // job.created, job.running from the first life, job.failed from the recovery.
      const types = await until("every delivery", async () => {
        const seen = received.map((r) =>
          unwrap(r.raw.toString("utf8"), r.headers as Record<string, string>, endpoint.body.secret),
        );
        return seen.length >= before.length + 1 ? seen : undefined;
      });
      expect(types.map((e) => e.type).sort()).toEqual(["job.created", "job.failed", "job.running"]);
      const ids = received.map((r) => r.headers["webhook-id"]);
      for (const id of before) expect(ids).toContain(id);
      expect(new Set(ids).size).toBe(ids.length);

      // The seed's Python receiver accepts one of them byte for byte.
      const sample = received[0];
      expect(
        seedVerifyWebhook([
          {
            payload: sample?.raw ?? "",
            signature: String(sample?.headers["x-knify-signature"]),
            secret: endpoint.body.secret,
          },
        ]),
      ).toEqual([true]);
    } finally {
      await second.close(1000);
    }
  });
});
