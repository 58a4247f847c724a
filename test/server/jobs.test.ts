import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { responseValidator } from "@knify/sdk/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxDir } from "../../server/src/jobs/sandbox-paths.js";
import { spec as openapi } from "../../server/src/spec.js";
import { workspaceFilesDir } from "../../server/src/workspaces/paths.js";
import { operationOf } from "../support/operation.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { until } from "../support/until.js";

const checkResponse = responseValidator(openapi as unknown as Parameters<typeof responseValidator>[0]);

// Jobs through the real server with the sandbox simulator (the default runner): real SQLite, real HTTP.

const LIMITS = { KNIFY_RATE_LIMIT_LIVE: "100000", KNIFY_RATE_LIMIT_TEST: "100000" };

interface Job {
  id: string;
  workspace_id: string | null;
  spec: Record<string, unknown>;
  status: string;
  started_at: string | null;
  completed_at: string | null;
  sandbox_id: string | null;
  cursor_session_id: string | null;
  turns: number;
  cleaned_up_at: string | null;
  error?: { code: string; message: string };
}

interface JobEvent {
  seq: number;
  job_id: string;
  type: string;
  created_at: string;
  data: Record<string, unknown>;
}

function client(server: TestServer, apiKey: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : undefined;
    const contentType = res.headers.get("content-type") ?? undefined;
    expect(
      checkResponse(operationOf(method, path) ?? "", res.status, parsed, contentType),
      `${method} ${path}`,
    ).toEqual([]);
    return { status: res.status, headers: res.headers, body: parsed };
  };
}
type Api = ReturnType<typeof client>;

async function waitForStatus(api: Api, jobId: string, statuses: string[], ms?: number): Promise<Job> {
  return until(
    `${jobId} to be ${statuses.join("/")}`,
    async () => {
      const { body } = await api("GET", `/jobs/${jobId}`);
      return statuses.includes(body.status) ? (body as Job) : undefined;
    },
    ms,
  );
}

async function allEvents(api: Api, jobId: string): Promise<JobEvent[]> {
  return (await api("GET", `/jobs/${jobId}/events?limit=100`)).body as JobEvent[];
}

async function createJob(api: Api, spec: Record<string, unknown>): Promise<string> {
  const res = await api("POST", "/jobs", { spec });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.job_id;
}

function connections(server: TestServer): Promise<number> {
  return new Promise((resolve, reject) =>
    server.http.getConnections((error, n) => (error ? reject(error) : resolve(n))),
  );
}

/** The path and query of the `Link: <…>; rel="next"` target, if any. */
function nextPath(headers: Headers): string | undefined {
  const target = /^<([^>]+)>; rel="next"$/.exec(headers.get("link") ?? "")?.[1];
  if (!target) return undefined;
  const url = new URL(target, "http://relative.invalid");
  return url.pathname + url.search;
}

/** A `.tar.gz` of `files`, made as Knify documents: `tar -czf workspace.tar.gz my-dir/`. */
function tarGz(files: Record<string, string>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "knify-jobs-ws-"));
  try {
    mkdirSync(join(dir, "my-dir"));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, "my-dir", name), content);
    execFileSync("tar", ["-czf", "workspace.tar.gz", "my-dir/"], { cwd: dir });
    return readFileSync(join(dir, "workspace.tar.gz"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Uploads a workspace through the API; returns its id. */
async function uploadWorkspace(server: TestServer, name: string, files: Record<string, string>): Promise<string> {
  const form = new FormData();
  form.append("workspace", new Blob([new Uint8Array(tarGz(files))], { type: "application/gzip" }), "workspace.tar.gz");
  form.append("name", name);
  const res = await fetch(`${server.url}/workspaces`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.adminKey}` },
    body: form,
  });
  const body = (await res.json()) as { workspace_id: string };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.workspace_id;
}

/** Reads an SSE response to its end and parses its frames. */
async function readSse(res: Response): Promise<{ id: number; event: string; data: JobEvent }[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((frame) => frame.startsWith("id: "))
    .map((frame) => {
      const fields = Object.fromEntries(
        frame.split("\n").map((line) => [line.slice(0, line.indexOf(": ")), line.slice(line.indexOf(": ") + 2)]),
      );
      return { id: Number(fields.id), event: fields.event ?? "", data: JSON.parse(fields.data ?? "null") as JobEvent };
    });
}

describe("jobs with the simulator", () => {
  let server: TestServer;
  let admin: Api;

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        ...LIMITS,
        KNIFY_SIMULATOR_DELAY_MS: "30",
        KNIFY_WEBHOOK_ALLOW_PRIVATE: "1",
        KNIFY_WEBHOOK_POLL_INTERVAL_MS: "20",
      },
    });
    admin = client(server, server.adminKey);
  });
  afterAll(() => server.stop());

  describe("POST /jobs", () => {
    it("runs a job to completion and records every step as an event", async () => {
      const create = await admin("POST", "/jobs", { spec: { job_type: "cursor_task", prompt: "Hello\nworld" } });
      expect(create.status).toBe(200);
      expect(create.body).toEqual({ job_id: expect.stringMatching(/^job_/), status: "pending" });
      const job = await waitForStatus(admin, create.body.job_id, ["completed", "failed"]);
      expect(job).toMatchObject({
        status: "completed",
        workspace_id: null,
        spec: { job_type: "cursor_task", prompt: "Hello\nworld", model: "auto" },
        sandbox_id: expect.stringMatching(/^sbx_/),
        cursor_session_id: expect.stringMatching(/^ses_/),
        turns: 1,
        cleaned_up_at: null,
      });
      expect(job.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(job.completed_at).toMatch(/Z$/);
      expect(job).not.toHaveProperty("error");
      expect(existsSync(sandboxDir(server.dataDir, job.sandbox_id ?? ""))).toBe(true);

      const events = await allEvents(admin, job.id);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.slice(0, 3).map((e) => [e.type, e.data])).toEqual([
        ["status", { status: "pending" }],
        ["turn", { turn: 1, prompt: "Hello\nworld" }],
        ["status", { status: "running" }],
      ]);
      const lines = events.filter((e) => e.type === "output").map((e) => e.data.line);
      expect(lines).toEqual(expect.arrayContaining(["prompt: Hello", "prompt: world", "simulator: done"]));
      expect(events.at(-1)).toMatchObject({ type: "status", data: { status: "completed" }, job_id: job.id });
    });

    it("fails a turn whose prompt asks the simulator to, with error only when failed", async () => {
      const id = await createJob(admin, { job_type: "claude_task", prompt: "break it [simulate:fail]" });
      const job = await waitForStatus(admin, id, ["completed", "failed"]);
      expect(job).toMatchObject({ status: "failed", error: { code: "agent_failed", message: "simulated failure" } });
      expect((await allEvents(admin, id)).at(-1)?.data).toEqual({
        status: "failed",
        error: { code: "agent_failed", message: "simulated failure" },
      });
      const viaMetadata = await createJob(admin, {
        job_type: "gemini_task",
        prompt: "x",
        metadata: { simulate: "fail" },
      });
      expect((await waitForStatus(admin, viaMetadata, ["completed", "failed"])).error).toEqual({
        code: "agent_failed",
        message: "simulated failure",
      });
    });

    it("runs user_exam jobs and refuses a time range that ends before it starts", async () => {
      const bad = await admin("POST", "/jobs", {
        spec: {
          job_type: "user_exam",
          user_id: "u1",
          time_range: { from: "2025-11-17T10:00:00Z", to: "2025-11-16T10:00:00Z" },
        },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe("validation_failed");
      expect(bad.body.errors).toEqual([expect.objectContaining({ location: "body", path: "/spec/time_range/from" })]);
      const missing = await admin("POST", "/jobs", { spec: { job_type: "user_exam", user_id: "u1" } });
      expect(missing.status).toBe(400);
      const id = await createJob(admin, {
        job_type: "user_exam",
        user_id: "u1",
        time_range: { from: "2025-11-16T10:00:00Z", to: "2025-11-17T10:00:00Z" },
      });
      expect((await waitForStatus(admin, id, ["completed", "failed"])).status).toBe("completed");
    });

    it("copies the workspace's files into the job's sandbox", async () => {
      const files = workspaceFilesDir(server.dataDir, "ws_files");
      mkdirSync(join(files, "src"), { recursive: true });
      writeFileSync(join(files, "src", "main.ts"), "export {};\n");
      const scoped = client(server, (await server.key({ workspaceId: "ws_files" })).apiKey);
      const job = await waitForStatus(scoped, await createJob(scoped, { job_type: "cursor_task", prompt: "p" }), [
        "completed",
      ]);
      expect(job.workspace_id).toBe("ws_files");
      expect(readdirSync(join(sandboxDir(server.dataDir, job.sandbox_id ?? ""), "src"))).toEqual(["main.ts"]);
    });

    it("puts a job in the workspace named by spec.workspace_path, with a copy of its files", async () => {
      const wsId = await uploadWorkspace(server, "jobs-path-ws", { "README.md": "# hi\n" });
      const id = await createJob(admin, {
        job_type: "cursor_task",
        prompt: "p",
        workspace_path: "/workspaces/jobs-path-ws",
      });
      const job = await waitForStatus(admin, id, ["completed"]);
      expect(job.workspace_id).toBe(wsId);
      const tree = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();
      const sandboxTree = tree(sandboxDir(server.dataDir, job.sandbox_id ?? ""));
      expect(sandboxTree.some((path) => path.endsWith("README.md"))).toBe(true);
      expect(sandboxTree).toEqual(tree(workspaceFilesDir(server.dataDir, wsId)));
      // A key scoped to another workspace cannot name it (404, as if it did not exist).
      const other = client(server, (await server.key({ workspaceId: "ws_elsewhere" })).apiKey);
      const res = await other("POST", "/jobs", {
        spec: { job_type: "cursor_task", prompt: "p", workspace_path: "/workspaces/jobs-path-ws" },
      });
      expect(res.status).toBe(404);
      expect(res.body.detail).toContain("/workspaces/jobs-path-ws");
      const own = client(server, (await server.key({ workspaceId: wsId })).apiKey);
      const mine = await own("POST", "/jobs", {
        spec: { job_type: "cursor_task", prompt: "p", workspace_path: "/workspaces/jobs-path-ws" },
      });
      expect(mine.status).toBe(200);
    });

    it("answers 404 for a workspace path that names no workspace", async () => {
      const res = await admin("POST", "/jobs", {
        spec: { job_type: "cursor_task", prompt: "p", workspace_path: "/workspaces/nope" },
      });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("not_found");
      expect(res.body.detail).toContain("/workspaces/nope");
    });

    it("needs jobs:create (a jobs:read key gets 403 from the pipeline)", async () => {
      const reader = client(server, (await server.key({ permissions: ["jobs:read"] })).apiKey);
      const res = await reader("POST", "/jobs", { spec: { job_type: "cursor_task", prompt: "p" } });
      expect(res.status).toBe(403);
      expect(res.body.missing_permission).toBe("jobs:create");
    });

    it("creates one job for a retried request with the same Idempotency-Key", async () => {
      const api = client(server, (await server.key({ workspaceId: "ws_idem" })).apiKey);
      const body = { spec: { job_type: "cursor_task", prompt: "once" } };
      const first = await api("POST", "/jobs", body, { "idempotency-key": "retry-1" });
      const second = await api("POST", "/jobs", body, { "idempotency-key": "retry-1" });
      expect(second.status).toBe(200);
      expect(second.body.job_id).toBe(first.body.job_id);
      expect(second.headers.get("idempotent-replayed")).toBe("true");
      expect((await api("GET", "/jobs")).body.map((j: Job) => j.id)).toEqual([first.body.job_id]);
    });
  });

  describe("POST /jobs/{job_id}/continue", () => {
    it("continues the same job three times in the same sandbox and agent session", async () => {
      const id = await createJob(admin, { job_type: "cursor_task", prompt: "turn 1" });
      const first = await waitForStatus(admin, id, ["completed"]);
      for (const turn of [2, 3, 4]) {
        const res = await admin("POST", `/jobs/${id}/continue`, { spec: { prompt: `turn ${turn}`, model: "gpt-5" } });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ job_id: id, status: "pending" });
        await until(`turn ${turn}`, async () => {
          const { body } = await admin("GET", `/jobs/${id}`);
          return body.turns === turn && body.status === "completed" ? body : undefined;
        });
      }
      const job = (await admin("GET", `/jobs/${id}`)).body as Job;
      expect(job).toMatchObject({ id, turns: 4, status: "completed", spec: { prompt: "turn 4", model: "gpt-5" } });
      expect(job.sandbox_id).toBe(first.sandbox_id);
      expect(job.cursor_session_id).toBe(first.cursor_session_id);
      const events = await allEvents(admin, id);
      expect(events.filter((e) => e.type === "turn").map((e) => e.data)).toEqual(
        [1, 2, 3, 4].map((turn) => ({ turn, prompt: `turn ${turn}` })),
      );
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    });

    it("waits for a running turn to end, then continues (the Advanced Usage page's back-to-back continues)", async () => {
      const id = await createJob(admin, { job_type: "cursor_task", prompt: "turn 1" });
      // Sent at once, while turn 1 is pending or running: the server holds it until turn 1 ends.
      const second = await admin("POST", `/jobs/${id}/continue`, {
        spec: { job_type: "cursor_task", prompt: "turn 2" },
      });
      expect(second.status).toBe(200);
      const third = await admin("POST", `/jobs/${id}/continue`, {
        spec: { job_type: "cursor_task", prompt: "turn 3" },
      });
      expect(third.status).toBe(200);
      await until("turn 3", async () => {
        const { body } = await admin("GET", `/jobs/${id}`);
        return body.turns === 3 && body.status === "completed" ? body : undefined;
      });
      const statuses = (await allEvents(admin, id))
        .filter((e) => e.type === "status" || e.type === "turn")
        .map((e) => (e.type === "turn" ? `turn ${e.data.turn}` : String(e.data.status)));
      // Each turn ran to its end before the next one was queued.
      expect(statuses).toEqual([
        "pending",
        "turn 1",
        "running",
        "completed",
        "pending",
        "turn 2",
        "running",
        "completed",
        "pending",
        "turn 3",
        "running",
        "completed",
      ]);
    });

    it("continues a failed job", async () => {
      const id = await createJob(admin, { job_type: "cursor_task", prompt: "[simulate:fail]" });
      await waitForStatus(admin, id, ["failed"]);
      expect((await admin("POST", `/jobs/${id}/continue`, { spec: { prompt: "again" } })).status).toBe(200);
      const job = await until("turn 2", async () => {
        const { body } = await admin("GET", `/jobs/${id}`);
        return body.turns === 2 && body.status === "completed" ? (body as Job) : undefined;
      });
      expect(job).not.toHaveProperty("error");
    });
  });

  describe("POST /jobs/{job_id}/cleanup", () => {
    it("deletes the sandbox, is idempotent, and makes the job impossible to continue", async () => {
      const id = await createJob(admin, { job_type: "cursor_task", prompt: "p" });
      const done = await waitForStatus(admin, id, ["completed"]);
      const path = sandboxDir(server.dataDir, done.sandbox_id ?? "");
      expect(existsSync(path)).toBe(true);
      const cleaned = await admin("POST", `/jobs/${id}/cleanup`);
      expect(cleaned.status).toBe(200);
      expect(cleaned.body).toMatchObject({
        id,
        status: "completed",
        sandbox_id: null,
        cleaned_up_at: expect.stringMatching(/Z$/),
      });
      expect(existsSync(path)).toBe(false);
      const again = await admin("POST", `/jobs/${id}/cleanup`);
      expect(again.body.cleaned_up_at).toBe(cleaned.body.cleaned_up_at);
      const events = await allEvents(admin, id);
      expect(events.filter((e) => e.type === "system")).toHaveLength(1);
      const cont = await admin("POST", `/jobs/${id}/continue`, { spec: { prompt: "more" } });
      expect(cont.status).toBe(409);
      expect(cont.body.code).toBe("job_not_continuable");
      expect(cont.body.detail).toContain("cleaned up");
    });
  });

  describe("GET /jobs/{job_id}/events", () => {
    it("pages with after and limit, announcing the next page in Link", async () => {
      const id = await createJob(admin, { job_type: "cursor_task", prompt: "a\nb\nc" });
      await waitForStatus(admin, id, ["completed"]);
      const all = await allEvents(admin, id);
      const seen: number[] = [];
      let url: string | undefined = `/jobs/${id}/events?limit=3`;
      let pages = 0;
      while (url) {
        const res = await admin("GET", url);
        expect(res.status).toBe(200);
        seen.push(...res.body.map((e: JobEvent) => e.seq));
        url = nextPath(res.headers);
        pages += 1;
      }
      expect(seen).toEqual(all.map((e) => e.seq));
      expect(pages).toBe(Math.ceil(all.length / 3));
      const tail = await admin("GET", `/jobs/${id}/events?after=${all.length - 2}`);
      expect(tail.body.map((e: JobEvent) => e.seq)).toEqual([all.length - 1, all.length]);
    });

    it("streams events as SSE until the job ends, and resumes from Last-Event-ID", async () => {
      const id = await createJob(admin, { job_type: "cursor_task", prompt: "stream me" });
      const res = await fetch(`${server.url}/jobs/${id}/events`, {
        headers: { authorization: `Bearer ${server.adminKey}`, accept: "text/event-stream" },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const frames = await readSse(res);
      expect(frames.map((f) => f.id)).toEqual(frames.map((_, i) => i + 1));
      expect(frames.every((f) => f.event === f.data.type && f.data.seq === f.id && f.data.job_id === id)).toBe(true);
      expect(frames.at(-1)?.data.data).toEqual({ status: "completed" });
      expect(frames.map((f) => f.data)).toEqual(await allEvents(admin, id));

      const resumed = await fetch(`${server.url}/jobs/${id}/events?after=0`, {
        headers: { authorization: `Bearer ${server.adminKey}`, accept: "text/event-stream", "last-event-id": "3" },
      });
      expect((await readSse(resumed)).map((f) => f.id)).toEqual(frames.slice(3).map((f) => f.id));
    });

    it("keeps an idle stream alive and lets go of it when the client disconnects", async () => {
      const slow = await startTestServer({
        env: { ...LIMITS, KNIFY_SIMULATOR_DELAY_MS: "60000", KNIFY_SSE_KEEPALIVE_MS: "50" },
      });
      try {
        const id = await createJob(client(slow, slow.adminKey), { job_type: "cursor_task", prompt: "p" });
        // node:http, because fetch's abort does not close the socket at once.
        const req = request(`${slow.url}/jobs/${id}/events`, {
          headers: { authorization: `Bearer ${slow.adminKey}`, accept: "text/event-stream" },
        });
        // An idle stream carries keep-alive comments (every 50 ms here).
        const received = await new Promise<string>((resolve) => {
          let text = "";
          req.on("response", (res) =>
            res.on("data", (chunk) => {
              text += String(chunk);
              if (text.includes(": keep-alive\n\n")) resolve(text);
            }),
          );
          req.end();
        });
        expect(received).toMatch(/^id: 1\nevent: status\n/);
        req.destroy();
        await until("the stream's connection to close", async () =>
          (await connections(slow)) <= 1 ? true : undefined,
        );
        const started = Date.now();
        await slow.close(5000);
        expect(Date.now() - started).toBeLessThan(1000);
      } finally {
        await slow.stop().catch(() => {});
      }
    });
  });

  describe("GET /jobs", () => {
    it("lists newest first, pages with a cursor and filters by status", async () => {
      const api = client(server, (await server.key({ workspaceId: "ws_list" })).apiKey);
      const ok1 = await createJob(api, { job_type: "cursor_task", prompt: "1" });
      const bad = await createJob(api, { job_type: "cursor_task", prompt: "[simulate:fail]" });
      const ok2 = await createJob(api, { job_type: "cursor_task", prompt: "3" });
      for (const id of [ok1, bad, ok2]) await waitForStatus(api, id, ["completed", "failed"]);
      const first = await api("GET", "/jobs?limit=2");
      expect(first.status).toBe(200);
      expect(first.body.map((j: Job) => j.id)).toEqual([ok2, bad]);
      const next = nextPath(first.headers);
      expect(next).toMatch(/cursor=/);
      const page2 = await api("GET", next ?? "");
      expect(page2.body.map((j: Job) => j.id)).toEqual([ok1]);
      expect(page2.headers.get("link")).toBeNull();
      const failed = await api("GET", "/jobs?status=failed");
      expect(failed.body.map((j: Job) => j.id)).toEqual([bad]);
      expect(failed.body[0].error).toEqual({ code: "agent_failed", message: "simulated failure" });
    });
  });

  describe("webhook events", () => {
    it("sends job.created, running, completed, continued and cleaned_up with the job as data", async () => {
      const received: { type: string; data: Job }[] = [];
      const receiver = createServer((req, res) => {
        let raw = "";
        req.on("data", (chunk) => {
          raw += String(chunk);
        });
        req.on("end", () => {
          received.push(JSON.parse(raw));
          res.end("ok");
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
      try {
        const { port } = receiver.address() as AddressInfo;
        const endpoint = await fetch(`${server.url}/webhook-endpoints`, {
          method: "POST",
          headers: { authorization: `Bearer ${server.adminKey}`, "content-type": "application/json" },
          body: JSON.stringify({ url: `http://127.0.0.1:${port}/hook`, workspace_id: "ws_hooked" }),
        });
        expect(endpoint.status).toBe(200);
        const api = client(server, (await server.key({ workspaceId: "ws_hooked" })).apiKey);
        const id = await createJob(api, { job_type: "cursor_task", prompt: "p" });
        await waitForStatus(api, id, ["completed"]);
        await api("POST", `/jobs/${id}/continue`, { spec: { prompt: "q" } });
        await until("turn 2", async () => {
          const { body } = await api("GET", `/jobs/${id}`);
          return body.turns === 2 && body.status === "completed" ? true : undefined;
        });
        await api("POST", `/jobs/${id}/cleanup`);
        const seen = await until("7 deliveries", async () => (received.length >= 7 ? received : undefined));
        const summary = seen.map((e) => `${e.type} ${e.data.status} ${e.data.turns}`).sort();
        expect(summary).toEqual(
          [
            "job.created pending 1",
            "job.running running 1",
            "job.completed completed 1",
            "job.continued pending 2",
            "job.running running 2",
            "job.completed completed 2",
            "job.cleaned_up completed 2",
          ].sort(),
        );
        expect(seen.every((e) => e.data.id === id && e.data.workspace_id === "ws_hooked")).toBe(true);
        expect(seen.find((e) => e.type === "job.cleaned_up")?.data).toEqual((await api("GET", `/jobs/${id}`)).body);
      } finally {
        await new Promise((resolve) => receiver.close(resolve));
      }
    });
  });

  describe("workspace scoping", () => {
    it("shows a scoped key only its workspace's jobs; others answer 404", async () => {
      const a = client(server, (await server.key({ workspaceId: "ws_team_a" })).apiKey);
      const b = client(server, (await server.key({ workspaceId: "ws_team_b" })).apiKey);
      const id = await createJob(a, { job_type: "cursor_task", prompt: "mine" });
      expect((await a("GET", `/jobs/${id}`)).body.workspace_id).toBe("ws_team_a");
      for (const [method, path, body] of [
        ["GET", `/jobs/${id}`],
        ["GET", `/jobs/${id}/events`],
        ["POST", `/jobs/${id}/continue`, { spec: { prompt: "x" } }],
        ["POST", `/jobs/${id}/cleanup`],
      ] as const) {
        const res = await b(method, path, body);
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body.code).toBe("not_found");
      }
      expect((await b("GET", "/jobs")).body.map((j: Job) => j.id)).not.toContain(id);
      expect((await a("GET", "/jobs")).body.map((j: Job) => j.id)).toContain(id);
      expect((await admin("GET", `/jobs/${id}`)).status).toBe(200);
    });
  });
});

describe("jobs that stay running (slow simulator)", () => {
  let server: TestServer;
  let admin: Api;

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        ...LIMITS,
        KNIFY_SIMULATOR_DELAY_MS: "60000",
        KNIFY_TEST_MODE_MAX_ACTIVE_JOBS: "2",
        KNIFY_CONTINUE_WAIT_MS: "300",
      },
    });
    admin = client(server, server.adminKey);
  });
  afterAll(() => server.stop());

  it("refuses to continue a job still running when KNIFY_CONTINUE_WAIT_MS runs out (409 job_not_continuable)", async () => {
    const id = await createJob(admin, { job_type: "cursor_task", prompt: "p" });
    await waitForStatus(admin, id, ["running"]);
    const res = await admin("POST", `/jobs/${id}/continue`, { spec: { prompt: "more" } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("job_not_continuable");
    expect(res.body.detail).toContain("is running");
    await admin("POST", `/jobs/${id}/cleanup`);
  });

  it("cleans up a running job: it fails with 'cleaned up while running'", async () => {
    const id = await createJob(admin, { job_type: "cursor_task", prompt: "p" });
    const running = await waitForStatus(admin, id, ["running"]);
    const res = await admin("POST", `/jobs/${id}/cleanup`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: "failed",
      error: { code: "cleaned_up", message: "cleaned up while running" },
      sandbox_id: null,
    });
    expect(existsSync(sandboxDir(server.dataDir, running.sandbox_id ?? ""))).toBe(false);
    const events = await allEvents(admin, id);
    expect(events.slice(-2).map((e) => [e.type, e.data])).toEqual([
      ["status", { status: "failed", error: { code: "cleaned_up", message: "cleaned up while running" } }],
      ["system", { message: "sandbox deleted" }],
    ]);
    // The stream of an ended job ends at once.
    const res2 = await fetch(`${server.url}/jobs/${id}/events`, {
      headers: { authorization: `Bearer ${server.adminKey}`, accept: "text/event-stream" },
    });
    expect((await readSse(res2)).length).toBe(events.length);
  });

  it("caps unfinished test-mode jobs per workspace (429 test_mode_limit)", async () => {
    const test = client(server, (await server.key({ type: "test", workspaceId: "ws_cap" })).apiKey);
    const spec = { job_type: "cursor_task", prompt: "p" };
    const first = await createJob(test, spec);
    await createJob(test, spec);
    const refused = await test("POST", "/jobs", { spec });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe("test_mode_limit");
    expect(refused.body.detail).toContain("ws_cap");
    expect(refused.headers.get("retry-after")).toBe("1");
    // Another workspace is not affected, and a finished job frees a place.
    const other = client(server, (await server.key({ type: "test", workspaceId: "ws_cap_other" })).apiKey);
    expect((await other("POST", "/jobs", { spec })).status).toBe(200);
    await test("POST", `/jobs/${first}/cleanup`);
    expect((await test("POST", "/jobs", { spec })).status).toBe(200);
  });
});
