import { request } from "node:http";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../server/src/clock.js";
import { rawTarGz } from "../fixtures/archives/raw-tar.js";
import { call, type Reply } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { until } from "../support/until.js";

// Issue 17: what an Idempotency-Key is scoped to, when it is released, when it expires, and what counts
// as "a different request" — each pinned through POST /jobs on a real server.

const DAY_MS = 24 * 60 * 60 * 1000;
const clock = new ManualClock(Date.parse("2026-05-04T12:00:00Z"));
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    clock,
    env: { KNIFY_TEST_MODE_MAX_ACTIVE_JOBS: "1", KNIFY_SIMULATOR_DELAY_MS: "0", KNIFY_RATE_LIMIT_LIVE: "100000" },
  });
});
afterAll(() => server.stop());

const post = (apiKey: string, path: string, body: unknown, idempotencyKey: string) =>
  call(server.url, "POST", path, { key: apiKey, body, headers: { "Idempotency-Key": idempotencyKey } });
const createJob = (apiKey: string, prompt: string, idempotencyKey: string, metadata?: Record<string, string>) =>
  post(
    apiKey,
    "/jobs",
    { spec: { job_type: "cursor_task", prompt, ...(metadata ? { metadata } : {}) } },
    idempotencyKey,
  );
const jobIds = async (apiKey: string) =>
  ((await call(server.url, "GET", "/jobs", { key: apiKey })).body as { id: string }[]).map((j) => j.id);

/** A workspace upload sent in two parts: `head` (the form up to the archive's first byte), then `rest`. */
const UPLOAD_BOUNDARY = "knifyrules";
const head = Buffer.from(
  `--${UPLOAD_BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nslow-upload\r\n--${UPLOAD_BOUNDARY}\r\n` +
    `Content-Disposition: form-data; name="workspace"; filename="w.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`,
);
const rest = Buffer.concat([
  rawTarGz([{ path: "proj/a.txt", data: "a" }]),
  Buffer.from(`\r\n--${UPLOAD_BOUNDARY}--\r\n`),
]);

/** POST /workspaces with `idempotencyKey`, headers sent; the caller writes `head` and `rest`. */
const startUpload = (url: string, apiKey: string, idempotencyKey: string) =>
  request(`${url}/workspaces`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${apiKey}`,
      "Idempotency-Key": idempotencyKey,
      "Content-Type": `multipart/form-data; boundary=${UPLOAD_BOUNDARY}`,
      "Content-Length": String(head.length + rest.length),
    },
  });

/**
 * The probe: the same key on an empty form (refused with 400, releasing its claim), on a new connection
 * each time, so that it never overtakes the upload on a connection already open.
 */
const probeUpload = (url: string, apiKey: string, idempotencyKey: string) =>
  new Promise<{ status: number; replayed: unknown; body: Record<string, unknown> }>((resolve, reject) => {
    const req = request(`${url}/workspaces`, {
      method: "POST",
      agent: false,
      headers: {
        Authorization: `Bearer ${apiKey}`,
        "Idempotency-Key": idempotencyKey,
        "Content-Type": "multipart/form-data; boundary=x",
      },
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => {
        text += chunk;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          replayed: res.headers["idempotent-replayed"],
          body: JSON.parse(text),
        }),
      );
    });
    req.on("error", reject);
    req.end("--x--\r\n");
  });

function expectFresh(reply: Reply) {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.headers.get("idempotent-replayed")).toBeNull();
}
function expectReplayOf(reply: Reply, first: Reply) {
  expect(reply.status).toBe(200);
  expect(reply.headers.get("idempotent-replayed")).toBe("true");
  expect(reply.body.job_id).toBe(first.body.job_id);
}

describe("an Idempotency-Key", () => {
  it("belongs to the API key that sent it: another tenant's key with the same value gets its own job", async () => {
    const a = await server.key({ workspaceId: "ws_idem_a" });
    const b = await server.key({ workspaceId: "ws_idem_b" });
    const first = await createJob(a.apiKey, "same body", "shared-value");
    expectFresh(first);
    const other = await createJob(b.apiKey, "same body", "shared-value");
    expectFresh(other);
    expect(other.body.job_id).not.toBe(first.body.job_id);
    // B sees only its own job, and A's job is still A's alone.
    expect(await jobIds(b.apiKey)).toEqual([other.body.job_id]);
    expect(await jobIds(a.apiKey)).toEqual([first.body.job_id]);
    const aAgain = await createJob(a.apiKey, "same body", "shared-value");
    expectReplayOf(aAgain, first);
    const bAgain = await createJob(b.apiKey, "same body", "shared-value");
    expectReplayOf(bAgain, other);
  });

  it("belongs to the API key, not the workspace: two keys of one workspace do not share it", async () => {
    const one = await server.key({ workspaceId: "ws_idem_same" });
    const two = await server.key({ workspaceId: "ws_idem_same" });
    const first = await createJob(one.apiKey, "p", "same-workspace");
    const second = await createJob(two.apiKey, "p", "same-workspace");
    expectFresh(first);
    expectFresh(second);
    expect(second.body.job_id).not.toBe(first.body.job_id);
    expect((await jobIds(one.apiKey)).sort()).toEqual([first.body.job_id, second.body.job_id].sort());
  });

  it("is released by a failed request, so the retry runs again and can succeed", async () => {
    const tester = await server.key({ type: "test", workspaceId: "ws_idem_release" });
    const holder = await createJob(tester.apiKey, "hold", "holder", { simulate: "hold" });
    expectFresh(holder);
    // The workspace's one test-mode slot is taken: the request fails, and so does its retry — with the
    // same answer, not "still in progress".
    const refused = await createJob(tester.apiKey, "wanted", "after-failure");
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe("test_mode_limit");
    const retried = await createJob(tester.apiKey, "wanted", "after-failure");
    expect(retried.status).toBe(429);
    expect(retried.body.code).toBe("test_mode_limit");
    const cancelled = await call(server.url, "POST", `/jobs/${holder.body.job_id}/cancel`, { key: tester.apiKey });
    expect(cancelled.status).toBe(200);
    const succeeded = await createJob(tester.apiKey, "wanted", "after-failure");
    expectFresh(succeeded);
    expectReplayOf(await createJob(tester.apiKey, "wanted", "after-failure"), succeeded);
    expect((await jobIds(tester.apiKey)).sort()).toEqual([holder.body.job_id, succeeded.body.job_id].sort());
  });

  it("is remembered for 24 h and no longer: from then on the same request makes a new job", async () => {
    const { apiKey } = await server.key({ workspaceId: "ws_idem_ttl" });
    const start = clock.now();
    const first = await createJob(apiKey, "daily", "ttl");
    expectFresh(first);
    clock.set(start + DAY_MS - 1);
    expectReplayOf(await createJob(apiKey, "daily", "ttl"), first);
    clock.set(start + DAY_MS);
    const next = await createJob(apiKey, "daily", "ttl");
    expectFresh(next);
    expect(next.body.job_id).not.toBe(first.body.job_id);
    // The new request owns the key now, for its own 24 h.
    clock.set(start + 2 * DAY_MS - 1);
    expectReplayOf(await createJob(apiKey, "daily", "ttl"), next);
  });

  it("refuses a different body (422), and the refusal does not replace the first response", async () => {
    const { apiKey } = await server.key({ workspaceId: "ws_idem_body" });
    const first = await createJob(apiKey, "original", "body-check");
    expectFresh(first);
    const other = await createJob(apiKey, "changed", "body-check");
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("idempotency_key_reused");
    expect(other.body.detail).toBe(
      "This Idempotency-Key was already used for a different request (method, path or body differ). Use a new key for a new request.",
    );
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    expectReplayOf(await createJob(apiKey, "original", "body-check"), first);
    expect(await jobIds(apiKey)).toEqual([first.body.job_id]);
  });

  it("refuses the same body sent to another path, which is another request", async () => {
    const { apiKey } = await server.key({ workspaceId: "ws_idem_path" });
    const jobA = await createJob(apiKey, "a", "create-a");
    const jobB = await createJob(apiKey, "b", "create-b");
    const finished = async (id: string) =>
      vi.waitFor(
        async () => {
          const job = (await call(server.url, "GET", `/jobs/${id}`, { key: apiKey })).body;
          expect(job.status).toBe("completed");
          return job;
        },
        { timeout: 10_000, interval: 20 },
      );
    await finished(jobA.body.job_id);
    const before = await finished(jobB.body.job_id);
    const turn = { spec: { prompt: "next" } };
    const continued = await post(apiKey, `/jobs/${jobA.body.job_id}/continue`, turn, "continue-once");
    expect(continued.status).toBe(200);
    const elsewhere = await post(apiKey, `/jobs/${jobB.body.job_id}/continue`, turn, "continue-once");
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.code).toBe("idempotency_key_reused");
    // Job B did not get a turn.
    const after = (await call(server.url, "GET", `/jobs/${jobB.body.job_id}`, { key: apiKey })).body;
    expect(after).toEqual(before);
  });

  it("is held by a request still running: the same request meanwhile is told so (409), then gets the replay", async () => {
    const { apiKey } = await server.key({ workspaceId: "ws_idem_running" });
    const probe = (idempotencyKey: string) => probeUpload(server.url, apiKey, idempotencyKey);
    // The probe (the same key on an empty form, refused with 400 and released) may reach the server before the
    // slow upload; then the upload is the one told "in progress", and the attempt starts over with a new key.
    for (let attempt = 0; attempt < 20; attempt++) {
      const idempotencyKey = `slow-upload-${attempt}`;
      const slow = startUpload(server.url, apiKey, idempotencyKey);
      let answer: { status: number; replayed: unknown } | undefined;
      const answered = new Promise<{ status: number; replayed: unknown }>((resolve, reject) => {
        slow.on("response", (res) => {
          res.resume();
          res.on("end", () => {
            answer = { status: res.statusCode ?? 0, replayed: res.headers["idempotent-replayed"] };
            resolve(answer);
          });
        });
        slow.on("error", reject);
      });
      // Probe only once the upload's headers and first bytes are on the wire.
      await new Promise<void>((resolve) => slow.write(head, () => resolve()));
      let held = false;
      while (!held && answer === undefined) {
        const reply = await probe(idempotencyKey);
        held = reply.status === 409 && reply.body.code === "idempotency_in_progress";
        if (!held) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      if (!held) {
        slow.destroy();
        continue;
      }
      slow.end(rest);
      expect(await answered).toEqual({ status: 200, replayed: undefined });
      const replay = await probe(idempotencyKey);
      expect(replay.status).toBe(200);
      expect(replay.replayed).toBe("true");
      expect(replay.body.name).toBe("slow-upload");
      return;
    }
    throw new Error("the slow upload never held its Idempotency-Key");
  });
});

// From the mutation run of server/src/http/idempotency.ts: what a replay of a secret-bearing response says,
// and what the idempotency store keeps of it, were pinned only by suites outside the `http` group.
describe("an Idempotency-Key on a response that showed a secret", () => {
  it("stores the response without the secret, and a replay says how to get a new one, naming the key", async () => {
    const first = await post(server.adminKey, "/keys", { name: "once" }, "secret-key-once");
    expect(first.status).toBe(200);
    const keyId = first.body.key_id as string;
    const replay = await post(server.adminKey, "/keys", { name: "once" }, "secret-key-once");
    expect(replay.status).toBe(409);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toMatchObject({
      code: "secret_already_shown",
      resource_id: keyId,
      detail: `The first request with this Idempotency-Key succeeded, and its api_key was shown then; secrets are shown once and never stored, so it cannot be replayed. If it was lost, rotate key ${keyId} (POST /keys/${keyId}/rotate) to get a new secret.`,
    });

    const admin = await call(server.url, "GET", "/keys/verify", { key: server.adminKey });
    const stored = await server.store.idempotency.claim(
      admin.body.key_id,
      "secret-key-once",
      "another fingerprint",
      clock.now(),
      DAY_MS,
      { owner: "test", leaseMs: 60_000 },
    );
    const body = JSON.parse(stored?.response?.body ?? "{}");
    expect(body.key_id).toBe(keyId);
    expect(body.name).toBe("once");
    expect(body).not.toHaveProperty("api_key");
    expect(stored?.response?.body).not.toContain(first.body.api_key);
  });

  it("names the webhook endpoint to register again", async () => {
    const hooks = await startTestServer({ env: { KNIFY_WEBHOOK_ALLOW_PRIVATE: "1" } });
    try {
      const body = { url: "http://127.0.0.1:9/hook", workspace_id: "ws_idem" };
      const headers = { "Idempotency-Key": "secret-endpoint-once" };
      const first = await call(hooks.url, "POST", "/webhook-endpoints", { key: hooks.adminKey, body, headers });
      expect(first.status).toBe(200);
      const replay = await call(hooks.url, "POST", "/webhook-endpoints", { key: hooks.adminKey, body, headers });
      expect(replay.status).toBe(409);
      expect(replay.body.resource_id).toBe(first.body.id);
      expect(replay.body.detail).toBe(
        `The first request with this Idempotency-Key succeeded, and its secret was shown then; secrets are shown once and never stored, so it cannot be replayed. If it was lost, delete endpoint ${first.body.id} and register it again to get a new secret.`,
      );
    } finally {
      await hooks.close();
    }
  });
});

// From the mutation run of server/src/http/idempotency.ts: the claim is leased (KNIFY_UPLOAD_TIMEOUT_MS) and
// renewed every third of the lease while the handler runs, so a request that takes long keeps its key; nothing
// ran a request that long, so dropping the renewal passed. The server's clock is a manual one and the claim's
// lease is read from the database, so the test waits for the renewal itself, never for a time.
describe("an Idempotency-Key held by a long request", () => {
  it("stays held past the first lease, because the running request renews its claim", async () => {
    const LEASE_MS = 3000;
    const leaseClock = new ManualClock(Date.parse("2026-05-04T12:00:00Z"));
    const long = await startTestServer({
      clock: leaseClock,
      env: { KNIFY_UPLOAD_TIMEOUT_MS: String(LEASE_MS), KNIFY_HEADERS_TIMEOUT_MS: String(LEASE_MS) },
    });
    const db = new Database(long.config.databasePath, { readonly: true });
    try {
      const { apiKey } = await long.key({ workspaceId: "ws_idem_lease" });
      const leaseUntil = () =>
        (
          db.prepare("SELECT lease_until FROM idempotency WHERE key = ? AND status IS NULL").get("long-upload") as
            | { lease_until: number }
            | undefined
        )?.lease_until;
      const upload = startUpload(long.url, apiKey, "long-upload");
      const answered = new Promise<number>((resolve, reject) => {
        upload.on("response", (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        upload.on("error", reject);
      });
      upload.write(head);
      const first = await until("the upload's claim", leaseUntil, 10_000);
      expect(first).toBe(leaseClock.now() + LEASE_MS);
      // Late in the first lease by the server's clock, the running request renews it from the clock's time.
      leaseClock.advance(LEASE_MS - 100);
      const renewed = await until(
        "the claim's renewal",
        () => {
          const at = leaseUntil();
          return at !== undefined && at > first ? at : undefined;
        },
        10_000,
      );
      expect(renewed).toBe(leaseClock.now() + LEASE_MS);
      // Past the first lease: the same request meanwhile is still told the key is held, not run again.
      leaseClock.advance(200);
      const probe = await probeUpload(long.url, apiKey, "long-upload");
      expect([probe.status, probe.body.code]).toEqual([409, "idempotency_in_progress"]);
      expect(probe.body.detail).toBe(
        "A request with this Idempotency-Key is still being handled; retry shortly to get its result.",
      );
      upload.end(rest);
      expect(await answered).toBe(200);
    } finally {
      db.close();
      await long.stop();
    }
  });
});
