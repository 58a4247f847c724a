import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KnifyClient } from "@knify/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../server/src/clock.js";
import { loadConfig } from "../../server/src/config.js";
import { sandboxDir, sandboxesDir } from "../../server/src/jobs/sandbox-paths.js";
import { createKey } from "../../server/src/keys/create-key.js";
import { createLogger } from "../../server/src/logger.js";
import { startServer } from "../../server/src/server.js";
import { workspaceFilesDir } from "../../server/src/workspaces/paths.js";
import { rawTarGz } from "../fixtures/archives/raw-tar.js";
import { call, type Reply } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { until } from "../support/until.js";

// Issue 15, item 7: a 509 KB upload expanded to 500 MiB, every job (test keys' simulated ones included)
// copied it, idle sandboxes stayed for ever, and a crash mid-copy left 825 MB behind. Each case attacks a
// real server over HTTP, configured with small limits.

const MiB = 1024 * 1024;
const FAST = { KNIFY_RATE_LIMIT_LIVE: "100000", KNIFY_RATE_LIMIT_TEST: "100000", KNIFY_SIMULATOR_DELAY_MS: "10" };

/** Uploads `archive` as a new workspace (POST) or as the new contents of one (PUT). */
async function upload(server: TestServer, archive: Buffer, target: { name: string } | { id: string }): Promise<Reply> {
  const form = new FormData();
  form.append("workspace", new Blob([new Uint8Array(archive)], { type: "application/gzip" }), "workspace.tar.gz");
  if ("name" in target) form.append("name", target.name);
  const path = "id" in target ? `/workspaces/${target.id}` : "/workspaces";
  const res = await fetch(`${server.url}${path}`, {
    method: "id" in target ? "PUT" : "POST",
    headers: { Authorization: `Bearer ${server.adminKey}` },
    body: form,
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** A workspace of one incompressible file of `bytes` bytes; returns its id. */
async function workspaceOf(server: TestServer, name: string, bytes: number): Promise<string> {
  const res = await upload(server, rawTarGz([{ path: "blob.bin", data: randomBytes(bytes) }]), { name });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.workspace_id as string;
}

function api(url: string, key: string) {
  return (method: string, path: string, body?: unknown) => call(url, method, path, { key, ...(body ? { body } : {}) });
}
type Api = ReturnType<typeof api>;

async function createJob(request: Api, spec: Record<string, unknown> = {}): Promise<Reply> {
  return request("POST", "/jobs", { spec: { job_type: "cursor_task", prompt: "p", ...spec } });
}

async function finished(request: Api, id: string) {
  return until(`job ${id} to finish`, async () => {
    const job = (await request("GET", `/jobs/${id}`)).body;
    return job.status === "completed" || job.status === "failed" ? job : undefined;
  });
}

const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe("uploads: the compression-ratio cap (default 100:1)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: FAST });
  });
  afterAll(() => server.stop());

  it("refuses an archive that decompresses to over 100 times its size (413) and keeps nothing of it", async () => {
    // 32 MiB of zeros gzip to ~32 KB: ~1000:1, like the 509 KB → 500 MiB.
    const bomb = rawTarGz([{ path: "zeros.bin", data: Buffer.alloc(32 * MiB) }]);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await upload(server, bomb, { name: "bomb" });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe("payload_too_large");
    expect(res.body.detail).toMatch(/decompresses to more than 100 times its size/);
    expect((await call(server.url, "GET", "/workspaces", { key: server.adminKey })).body).toEqual([]);
    expect(entries(join(server.dataDir, "workspaces"))).toEqual([]);
  });

  it("accepts archives below the ratio, and small ones whatever their ratio", async () => {
    // 2 MiB of zeros beside 100 KB of noise: ~20:1.
    const mixed = rawTarGz([
      { path: "zeros.bin", data: Buffer.alloc(2 * MiB) },
      { path: "noise.bin", data: randomBytes(100_000) },
    ]);
    expect((await upload(server, mixed, { name: "mixed" })).status).toBe(200);
    // 512 KiB of zeros is over 500:1, but under the first MiB, where no ratio is checked.
    const small = rawTarGz([{ path: "zeros.bin", data: Buffer.alloc(512 * 1024) }]);
    expect((await upload(server, small, { name: "small" })).status).toBe(200);
  });
});

describe("the per-workspace disk quota (workspace files + job sandboxes)", () => {
  const QUOTA = 1_000_000;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...FAST, KNIFY_WORKSPACE_DISK_QUOTA_BYTES: String(QUOTA) } });
  });
  afterAll(() => server.stop());

  it("refuses an upload whose files do not fit the quota (413, saying so)", async () => {
    const res = await upload(server, rawTarGz([{ path: "big.bin", data: randomBytes(1_200_000) }]), { name: "big" });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe("payload_too_large");
    expect(res.body.detail).toContain(`disk quota of ${QUOTA} bytes`);
  });

  it("counts each job's sandbox copy: the job that does not fit gets 429 disk_quota_exceeded until one is cleaned up", async () => {
    const ws = await workspaceOf(server, "quota-jobs", 300_000);
    const live = api(server.url, (await server.key({ workspaceId: ws })).apiKey);
    const first = await createJob(live);
    const second = await createJob(live);
    expect([first.status, second.status]).toEqual([200, 200]);
    // 300 KB of files + two 300 KB sandboxes = 900 KB; a third copy would make 1.2 MB.
    const third = await createJob(live);
    expect(third.status).toBe(429);
    expect(third.body.code).toBe("disk_quota_exceeded");
    expect(third.body.detail).toContain(`Workspace ${ws} uses 900000 of its ${QUOTA}-byte disk quota`);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);

    const done = await finished(live, first.body.job_id);
    expect(statSync(join(sandboxDir(server.dataDir, done.sandbox_id), "blob.bin")).size).toBe(300_000);
    expect((await live("POST", `/jobs/${first.body.job_id}/cleanup`)).status).toBe(200);
    expect((await createJob(live)).status).toBe(200);
  });

  it("refuses a continue while the workspace's quota is used up (429 disk_quota_exceeded), and takes it once there is room", async () => {
    const ws = await workspaceOf(server, "quota-continue", 250_000);
    const live = api(server.url, (await server.key({ workspaceId: ws })).apiKey);
    // 250 KB of files + three 250 KB sandboxes = the whole 1 MB quota.
    const jobs = [];
    for (let i = 0; i < 3; i += 1) jobs.push(await finished(live, (await createJob(live)).body.job_id));
    const turnsBefore = jobs[0].turns;
    const refused = await live("POST", `/jobs/${jobs[0].id}/continue`, {
      spec: { job_type: "cursor_task", prompt: "more" },
    });
    expect(refused.status, JSON.stringify(refused.body)).toBe(429);
    expect(refused.body.code).toBe("disk_quota_exceeded");
    expect(refused.body.detail).toContain(`Workspace ${ws} uses ${QUOTA} of its ${QUOTA}-byte disk quota`);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Refused means nothing started: the job is as it was.
    const after = (await live("GET", `/jobs/${jobs[0].id}`)).body;
    expect([after.status, after.turns]).toEqual([jobs[0].status, turnsBefore]);

    expect((await live("POST", `/jobs/${jobs[2].id}/cleanup`)).status).toBe(200);
    const taken = await live("POST", `/jobs/${jobs[0].id}/continue`, {
      spec: { job_type: "cursor_task", prompt: "more" },
    });
    expect(taken.status).toBe(200);
    expect((await finished(live, jobs[0].id)).turns).toBe(turnsBefore + 1);
    for (const job of jobs.slice(0, 2)) expect((await live("POST", `/jobs/${job.id}/cleanup`)).status).toBe(200);
  });

  it("refuses to replace a workspace with files that do not fit beside its sandboxes (413)", async () => {
    const ws = await workspaceOf(server, "quota-replace", 200_000);
    const live = api(server.url, (await server.key({ workspaceId: ws })).apiKey);
    for (let i = 0; i < 2; i += 1) await finished(live, (await createJob(live)).body.job_id);
    // Two 200 KB sandboxes leave 600 KB for the files.
    const tooBig = await upload(server, rawTarGz([{ path: "blob.bin", data: randomBytes(700_000) }]), { id: ws });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.detail).toContain("the sandboxes of its jobs use 400000 bytes");
    expect(statSync(join(workspaceFilesDir(server.dataDir, ws), "blob.bin")).size).toBe(200_000);
    const fits = await upload(server, rawTarGz([{ path: "blob.bin", data: randomBytes(550_000) }]), { id: ws });
    expect(fits.status).toBe(200);
  });

  it("gives test keys' simulated jobs an empty sandbox, outside the quota, unless metadata.simulate_sandbox is copy", async () => {
    const ws = await workspaceOf(server, "quota-test-mode", 400_000);
    const testKey = (await server.key({ workspaceId: ws, type: "test" })).apiKey;
    const test = api(server.url, testKey);
    // 400 KB of files: two copies would not fit, yet four test jobs run without one.
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const res = await createJob(test);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      ids.push(res.body.job_id);
    }
    for (const id of ids) {
      const job = await finished(test, id);
      expect(job.status).toBe("completed");
      expect(entries(sandboxDir(server.dataDir, job.sandbox_id))).toEqual([]);
    }
    // An empty sandbox is still a valid archive (tar readers refuse one with no entry) and has no changes.
    const sdk = new KnifyClient(testKey, { baseURL: server.url, maxRetries: 0, logLevel: "off" });
    const out = join(mkdtempSync(join(tmpdir(), "knify-empty-archive-")), "out");
    await sdk.jobs.archive.extractTo(ids[0] ?? "", out);
    expect(readdirSync(out)).toEqual([]);
    expect(await sdk.jobs.changes(ids[0] ?? "")).toEqual([]);
    const copied = await createJob(test, { metadata: { simulate_sandbox: "copy" } });
    expect(copied.status).toBe(200);
    const job = await finished(test, copied.body.job_id);
    expect(entries(sandboxDir(server.dataDir, job.sandbox_id))).toEqual(["blob.bin"]);
    // That copy counts: another one would take the workspace to 1.2 MB.
    const again = await createJob(test, { metadata: { simulate_sandbox: "copy" } });
    expect(again.status).toBe(429);
    expect(again.body.code).toBe("disk_quota_exceeded");
  });
});

describe("idle sandboxes are cleaned after KNIFY_SANDBOX_TTL_MS (an injected clock, no sleeping for it)", () => {
  const clock = new ManualClock(Date.parse("2025-11-17T10:00:00Z"));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ clock, env: { ...FAST, KNIFY_SANDBOX_TTL_MS: "1000" } });
  });
  afterAll(() => server.stop());

  it("cleans up a job idle past the TTL (a later continue gets 409 job_not_continuable, saying it was cleaned up) and keeps a younger one", async () => {
    const admin = api(server.url, server.adminKey);
    const old = await finished(admin, (await createJob(admin)).body.job_id);
    clock.advance(600);
    const young = await finished(admin, (await createJob(admin)).body.job_id);
    expect(existsSync(sandboxDir(server.dataDir, old.sandbox_id))).toBe(true);
    clock.advance(500); // old: idle 1100 ms, young: 500 ms

    // The sweep commits the cleanup, then deletes the directory: wait for both.
    const cleaned = await until("the idle sweep", async () => {
      const job = (await admin("GET", `/jobs/${old.id}`)).body;
      const gone = !existsSync(sandboxDir(server.dataDir, old.sandbox_id));
      return job.cleaned_up_at !== null && gone ? job : undefined;
    });
    expect(cleaned).toMatchObject({ sandbox_id: null, cleaned_up_at: "2025-11-17T10:00:01Z" });
    const events = (await admin("GET", `/jobs/${old.id}/events`)).body as { type: string; data: unknown }[];
    expect(events.at(-1)).toMatchObject({
      type: "system",
      data: { message: "sandbox deleted: idle longer than its TTL" },
    });
    const refused = await admin("POST", `/jobs/${old.id}/continue`, { spec: { prompt: "again" } });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("job_not_continuable");
    expect(refused.body.detail).toMatch(/cleaned up/);

    // The sweep that cleaned `old` ran after the clock moved, and left `young` alone.
    expect((await admin("GET", `/jobs/${young.id}`)).body).toMatchObject({ cleaned_up_at: null });
    expect(existsSync(sandboxDir(server.dataDir, young.sandbox_id))).toBe(true);
    expect((await admin("POST", `/jobs/${young.id}/continue`, { spec: { prompt: "again" } })).status).toBe(200);
  });
});

describe("orphaned sandbox directories are removed at start", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "knify-orphans-"));
  const env = { ...FAST, KNIFY_DATA_DIR: dataDir, KNIFY_PORT: "0", KNIFY_HOST: "127.0.0.1" };
  const logger = createLogger("silent");
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("removes sandboxes no job refers to and copies cut short by a crash, and keeps the live ones", async () => {
    const first = await startServer(loadConfig(env), logger, { env });
    const { apiKey } = await createKey(first.store, loadConfig(env), Date.now(), { name: "k" });
    const job = await finished(api(first.url, apiKey), (await createJob(api(first.url, apiKey))).body.job_id);
    await first.close(1000);

    // What a crash leaves: a sandbox whose job row never got its id, and a half-made copy.
    const root = sandboxesDir(dataDir);
    for (const name of ["sbx_01ORPHANED0000000000000000", ".sbx_01HALFCOPIED000000000000000.partial"]) {
      mkdirSync(join(root, name, "src"), { recursive: true });
      writeFileSync(join(root, name, "src", "big.bin"), randomBytes(64 * 1024));
      const anHourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(join(root, name), anHourAgo, anHourAgo);
    }
    writeFileSync(join(root, "not-a-sandbox.txt"), "left alone");

    const second = await startServer(loadConfig(env), logger, { env });
    try {
      expect(entries(root).sort()).toEqual([job.sandbox_id, "not-a-sandbox.txt"].sort());
      const res = await api(second.url, apiKey)("POST", `/jobs/${job.id}/continue`, { spec: { prompt: "again" } });
      expect(res.status).toBe(200);
    } finally {
      await second.close(1000);
    }
  });
});
