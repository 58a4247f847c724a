import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { migrations } from "../../server/src/store/postgres/migrations.js";
import { describePostgres } from "../support/describe-postgres.js";
import { call } from "../support/http.js";
import { createTestDatabase } from "../support/postgres.js";
import { type Replica, startReplica, until } from "../support/replicas.js";

// Issue 10, item 2: three `knify-server start` processes on different ports sharing one PostgreSQL database
// and one data dir, as an operator runs them behind a load balancer.
const LEASE_MS = 3000;
/** A dead replica's running turn is failed by another within a lease plus one renewal period (lease / 6). */
const TAKEOVER_BOUND_MS = LEASE_MS + LEASE_MS / 6;

describePostgres("three replicas on one PostgreSQL database", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let replicas: Replica[] = [];
  let db: pg.Client;
  let admin: string;
  let hooks: Server;
  let env: Record<string, string>;
  const received: string[] = [];
  const held: string[] = [];
  let holding = true;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), "knify-replicas-"));
    env = {
      KNIFY_DATABASE_URL: database.url,
      KNIFY_DATA_DIR: dataDir,
      KNIFY_SIMULATOR_DELAY_MS: "20",
      KNIFY_JOB_LEASE_MS: String(LEASE_MS),
      KNIFY_WEBHOOK_ALLOW_PRIVATE: "1",
    };
    // Started together on an empty database: they migrate once and make one bootstrap key between them.
    replicas = await Promise.all(["r1", "r2", "r3"].map((id) => startReplica(id, env)));
    admin = readFileSync(join(dataDir, "bootstrap-admin-key"), "utf8").trim();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    hooks = createServer((req, res) => {
      if (req.url === "/hold") {
        // Answers nothing while `holding`: the attempt stays in flight on whichever replica sent it.
        held.push(String(req.headers["webhook-id"]));
        req.resume();
        if (!holding) req.on("end", () => res.writeHead(204).end());
        return;
      }
      received.push(String(req.headers["webhook-id"]));
      req.resume();
      req.on("end", () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => hooks.listen(0, "127.0.0.1", resolve));
  }, 120_000);

  afterAll(async () => {
    for (const replica of replicas) replica.process.kill("SIGKILL");
    await Promise.all(replicas.map((r) => r.exited));
    hooks?.close();
    await db?.end();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const on = (i: number) => replicas[i % replicas.length] as Replica;
  /** The replica whose scheduler runs the job's turn, once it runs. */
  const runningOn = (jobId: string) =>
    until(
      "the turn runs",
      async () => {
        const row = await db.query("SELECT claimed_by FROM jobs WHERE id = $1 AND status = 'running'", [jobId]);
        return (row.rows[0]?.claimed_by as string | undefined) ?? undefined;
      },
      15_000,
    );

  it("migrates once and makes one bootstrap key, which every replica accepts", async () => {
    // Each migration applied once, however many replicas started together.
    expect((await db.query("SELECT version FROM schema_migrations ORDER BY version")).rows).toEqual(
      migrations.map(({ version }) => ({ version })),
    );
    expect((await db.query("SELECT count(*)::int AS n FROM keys")).rows).toEqual([{ n: 1 }]);
    for (const replica of replicas)
      expect((await call(replica.url, "GET", "/keys/verify", { key: admin })).status).toBe(200);
  });

  it("limits a 20/min key to exactly 20 requests across the replicas, never 20 per replica", async () => {
    const created = await call(on(0).url, "POST", "/keys", { key: admin, body: { name: "limited", rate_limit: 20 } });
    expect(created.status).toBe(200);
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call(on(i).url, "GET", "/keys/verify", { key: created.body.api_key })),
    );
    const elapsed = Date.now() - started;
    const ok = statuses.filter((r) => r.status === 200).length;
    expect(statuses.filter((r) => r.status !== 200).every((r) => r.status === 429)).toBe(true);
    // GCRA frees one request per 3 s (60 s / 20); on a loaded machine the burst may outlast that.
    expect(ok).toBeGreaterThanOrEqual(20);
    expect(ok).toBeLessThanOrEqual(20 + Math.floor(elapsed / 3000));
  });

  it("refuses a key revoked, and re-limits one changed, through another replica on its next request", async () => {
    const created = await call(on(0).url, "POST", "/keys", { key: admin, body: { name: "short-lived" } });
    const key = created.body.api_key as string;
    expect((await call(on(1).url, "GET", "/keys/verify", { key })).status).toBe(200);
    const patched = await call(on(0).url, "PATCH", `/keys/${created.body.key_id}`, {
      key: admin,
      body: { rate_limit: 7 },
    });
    expect(patched.status).toBe(200);
    expect((await call(on(1).url, "GET", "/keys/verify", { key })).headers.get("x-ratelimit-limit")).toBe("7");
    expect((await call(on(0).url, "DELETE", `/keys/${created.body.key_id}`, { key: admin })).status).toBe(200);
    expect((await call(on(1).url, "GET", "/keys/verify", { key })).status).toBe(401);
    expect((await call(on(2).url, "GET", "/keys/verify", { key })).status).toBe(401);
  });

  it("creates one job for one Idempotency-Key sent to two replicas at once", async () => {
    const body = { spec: { job_type: "cursor_task", prompt: "once" } };
    const headers = { "Idempotency-Key": `same-${Date.now()}` };
    const [a, b] = await Promise.all([
      call(on(1).url, "POST", "/jobs", { key: admin, body, headers }),
      call(on(2).url, "POST", "/jobs", { key: admin, body, headers }),
    ]);
    const created = [a, b].filter((r) => r.status === 200);
    expect(created.length).toBeGreaterThanOrEqual(1);
    // The other is the same response replayed, or told the first is still in progress.
    for (const r of [a, b]) if (r.status !== 200) expect(r.body.code).toMatch(/idempotency/);
    expect(new Set(created.map((r) => r.body.job_id)).size).toBe(1);
    const jobs = await db.query("SELECT count(*)::int AS n FROM jobs WHERE spec LIKE '%\"once\"%'");
    expect(jobs.rows).toEqual([{ n: 1 }]);
  });

  it("runs each turn on exactly one replica, and streams it to a follower on another", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await call(on(i).url, "POST", "/jobs", {
        key: admin,
        body: { spec: { job_type: "cursor_task", prompt: `turn ${i}` } },
      });
      ids.push(res.body.job_id);
    }
    // Followed through another replica than the one it was created on: the stream ends with the turn.
    const stream = await fetch(`${on(2).url}/jobs/${ids[0]}/events`, {
      headers: { Authorization: `Bearer ${admin}`, Accept: "text/event-stream" },
    });
    const text = await stream.text();
    expect(text).toMatch(/"status":"running"/);
    expect(text).toMatch(/"status":"completed"/);
    await until(
      "every job completed",
      async () => {
        const done = await db.query("SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND status = 'completed'", [
          ids,
        ]);
        return done.rows[0].n === ids.length ? true : undefined;
      },
      30_000,
    );
    const running = await db.query(
      `SELECT job_id, count(*)::int AS n FROM job_events WHERE job_id = ANY($1) AND type = 'status'
         AND data LIKE '%"running"%' GROUP BY job_id`,
      [ids],
    );
    expect(running.rows.map((r) => r.n)).toEqual(ids.map(() => 1));
  });

  it("delivers each webhook once though three replicas' workers compete", async () => {
    const url = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
    const endpoint = await call(on(1).url, "POST", "/webhook-endpoints", {
      key: admin,
      body: { url, workspace_id: "ws_replicated", event_types: ["job.completed"] },
    });
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(200);
    const scoped = await call(on(0).url, "POST", "/keys", {
      key: admin,
      body: { name: "ws", workspace_id: "ws_replicated" },
    });
    for (let i = 0; i < 6; i++) {
      const job = await call(on(i).url, "POST", "/jobs", {
        key: scoped.body.api_key,
        body: { spec: { job_type: "cursor_task", prompt: `hook ${i}` } },
      });
      expect(job.status).toBe(200);
    }
    await until("six deliveries", async () => (received.length >= 6 ? true : undefined), 30_000);
    // Give any duplicate a moment to arrive, then count each event id.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received).toHaveLength(6);
    expect(new Set(received).size).toBe(6);
  });

  it("hands its turns back at once on a graceful stop (SIGTERM), ready on every replica before", async () => {
    for (const replica of replicas) expect((await call(replica.url, "GET", "/healthz/ready")).status).toBe(200);
    const res = await call(on(0).url, "POST", "/jobs", {
      key: admin,
      body: { spec: { job_type: "cursor_task", prompt: "held", metadata: { simulate: "hold" } } },
    });
    const jobId = res.body.job_id as string;
    const owner = await runningOn(jobId);
    const leaving = replicas.find((r) => r.id === owner) as Replica;
    leaving.process.kill("SIGTERM");
    expect(await leaving.exited).toBe(0);
    replicas = replicas.filter((r) => r !== leaving);
    // No lease to wait for: the job is already failed when the process is gone.
    const job = await call(on(0).url, "GET", `/jobs/${jobId}`, { key: admin });
    expect(job.body).toMatchObject({ status: "failed", error: { code: "interrupted" } });
    replicas.push(await startReplica(leaving.id, env));
  }, 60_000);

  it(`fails the running turn of a SIGKILLed replica within the lease plus a renewal (${TAKEOVER_BOUND_MS} ms)`, async () => {
    const res = await call(on(0).url, "POST", "/jobs", {
      key: admin,
      body: { spec: { job_type: "cursor_task", prompt: "held", metadata: { simulate: "hold" } } },
    });
    const jobId = res.body.job_id as string;
    const owner = await runningOn(jobId);
    const victim = replicas.find((r) => r.id === owner) as Replica;
    const killedAt = Date.now();
    victim.process.kill("SIGKILL");
    await victim.exited;
    replicas = replicas.filter((r) => r !== victim);
    const failed = await until(
      "another replica fails the turn",
      async () => {
        const job = await call(on(0).url, "GET", `/jobs/${jobId}`, { key: admin });
        return job.body.status === "failed" ? job.body : undefined;
      },
      TAKEOVER_BOUND_MS * 5,
    );
    expect(failed.error.code).toBe("interrupted");
    // The surviving replica records the failure on its clock; generous slack for timers on a busy machine.
    expect(Date.parse(failed.completed_at) - killedAt).toBeLessThanOrEqual(TAKEOVER_BOUND_MS + 3000);
    // The job can go on, on a replica that is alive.
    const again = await call(on(1).url, "POST", `/jobs/${jobId}/continue`, {
      key: admin,
      body: { spec: { prompt: "again" } },
    });
    expect(again.status).toBe(200);
  });

  it("loses no webhook delivery when the replica sending it is killed mid-attempt", async () => {
    const url = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hold`;
    const endpoint = await call(on(0).url, "POST", "/webhook-endpoints", {
      key: admin,
      body: { url, workspace_id: "ws_held" },
    });
    expect(endpoint.status).toBe(200);
    const sent = await call(on(0).url, "POST", `/webhook-endpoints/${endpoint.body.id}/test`, { key: admin });
    expect(sent.status).toBe(200);
    const eventId = await until("the attempt is in flight", async () => held[0], 15_000);
    // Whichever replica holds the attempt dies with the others: SIGKILL, no chance to give the lease back.
    for (const replica of replicas) replica.process.kill("SIGKILL");
    await Promise.all(replicas.map((r) => r.exited));
    holding = false;
    // The lease runs out (fast-forwarded in the database instead of waiting its ~55 s), and a new replica
    // sends the same event again.
    await db.query("UPDATE webhook_deliveries SET claimed_until = 0 WHERE endpoint_id = $1", [endpoint.body.id]);
    replicas = [await startReplica("r4", env)];
    await until("the event is delivered again", async () => (held.length >= 2 ? true : undefined), 30_000);
    expect(held[1]).toBe(eventId);
    const deliveries = await until(
      "the delivery is recorded as succeeded",
      async () => {
        const list = await call(on(0).url, "GET", `/webhook-endpoints/${endpoint.body.id}/deliveries`, { key: admin });
        return list.body[0]?.status === "succeeded" ? list.body : undefined;
      },
      15_000,
    );
    expect(deliveries).toHaveLength(1);
  }, 90_000);
});
