import { gzipSync } from "node:zlib";
import {
  createKnifyMock,
  type KnifyMock,
  type KnifyMockOptions,
  MockSpecViolation,
  responseValidator,
} from "@knify/sdk/testing";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkResponses } from "../../sdk/src/testing/validate.js";

const BASE = "https://api.knify.io";
const server = setupServer();
let mock: KnifyMock | undefined;

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => {
  // Every response the mock sent in the test must have been one the spec allows.
  expect(mock?.violations ?? []).toEqual([]);
  mock = undefined;
  server.resetHandlers();
});
afterAll(() => server.close());

function start(options?: KnifyMockOptions): KnifyMock {
  mock = createKnifyMock(options);
  server.resetHandlers(...mock.handlers);
  return mock;
}

/** A clock the test moves by hand. */
function manualClock(start = "2025-11-17T10:00:00Z") {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms;
    },
  };
}

interface CallOptions {
  key?: string;
  json?: unknown;
  body?: string | FormData;
  headers?: Record<string, string>;
}

async function call(method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.Authorization = `Bearer ${options.key}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  const res = await fetch(path.startsWith("http") ? path : `${BASE}${path}`, { method, headers, body: body ?? null });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected loosely in assertions.
  const data: any = text === "" ? undefined : JSON.parse(text);
  return { status: res.status, headers: res.headers, data };
}

const cursorTask = (prompt = "Hello", extra: Record<string, unknown> = {}) => ({
  spec: { job_type: "cursor_task", prompt, ...extra },
});

function expectProblem(res: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(res.data).toMatchObject({ status, code, type: `https://docs.knify.io/errors/${code}` });
  expect(res.data.request_id).toBe(res.headers.get("x-request-id"));
}

describe("routing", () => {
  it("answers GET / without a key, with the spec's version", async () => {
    const m = start();
    const res = await call("GET", "/");
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ status: "ok", version: m.spec.info.version });
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    expect(res.headers.get("x-ratelimit-limit")).toBeNull();
  });

  it("answers 404 for a path the spec does not have", async () => {
    const m = start();
    expectProblem(await call("GET", "/jobs/job_abc/nope", { key: m.adminKey }), 404, "not_found");
  });

  it("answers 405 with Allow for a method the path does not take", async () => {
    const m = start();
    const res = await call("PATCH", "/jobs", { key: m.adminKey });
    expectProblem(res, 405, "method_not_allowed");
    // As the server: a GET path answers HEAD too (RFC 9110 §9.3.2).
    expect(res.headers.get("allow")).toBe("HEAD, GET, POST");
    expect(res.data.allowed_methods).toEqual(["HEAD", "GET", "POST"]);
  });

  it("serves under a base URL with a path prefix, and echoes a client X-Request-Id", async () => {
    const m = start({ baseURL: "http://127.0.0.1:8080/api/" });
    const res = await call("GET", "http://127.0.0.1:8080/api/keys/verify", {
      key: m.adminKey,
      headers: { "X-Request-Id": "my-trace.42" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("my-trace.42");
    expect(res.headers.get("x-ratelimit-limit")).toBe("1000");
    expect(Number(res.headers.get("x-ratelimit-remaining"))).toBeGreaterThan(0);
    expect(Number(res.headers.get("x-ratelimit-reset"))).toBeGreaterThan(0);
  });
});

describe("authentication", () => {
  it("answers 401 with a Bearer challenge for a missing or unknown key", async () => {
    start();
    const missing = await call("GET", "/jobs");
    expectProblem(missing, 401, "unauthorized");
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="knify"');
    const unknown = await call("GET", "/jobs", { key: "knify_live_notakeyofthismock_000000" });
    expectProblem(unknown, 401, "unauthorized");
    expect(unknown.headers.get("www-authenticate")).toBe('Bearer realm="knify", error="invalid_token"');
  });

  it("rejects a revoked key on its very next request", async () => {
    const m = start();
    const created = await call("POST", "/keys", { key: m.adminKey, json: { name: "CI" } });
    expect(created.data.api_key).toMatch(/^knify_live_/);
    expect((await call("GET", "/keys/verify", { key: created.data.api_key })).status).toBe(200);
    const revoked = await call("DELETE", `/keys/${created.data.key_id}`, { key: m.adminKey });
    expect(revoked.data.revoked_at).not.toBeNull();
    expectProblem(await call("GET", "/keys/verify", { key: created.data.api_key }), 401, "unauthorized");
  });

  it("rotates a key: the new secret works, the old one until the grace period ends", async () => {
    const clock = manualClock();
    const m = start({ now: clock.now });
    const { key_id, api_key: oldSecret } = await m.state.createKey({ name: "rotating" });
    const rotated = await call("POST", `/keys/${key_id}/rotate`, {
      key: m.adminKey,
      json: { grace_period_seconds: 60 },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.data.api_key).not.toBe(oldSecret);
    expect(rotated.data.previous_secret_expires_at).toBe("2025-11-17T10:01:00Z");
    expect((await call("GET", "/keys/verify", { key: oldSecret })).status).toBe(200);
    clock.advance(60_000);
    expect((await call("GET", "/keys/verify", { key: oldSecret })).status).toBe(401);
    expect((await call("GET", "/keys/verify", { key: rotated.data.api_key })).status).toBe(200);
  });
});

describe("the mock clock", () => {
  it("expires keys on the mock clock", async () => {
    const clock = manualClock();
    const m = start({ now: clock.now });
    const { api_key } = await m.state.createKey({ expires_at: "2025-11-17T10:01:00Z" });
    expect((await call("GET", "/keys/verify", { key: api_key })).status).toBe(200);
    clock.advance(60_000);
    expectProblem(await call("GET", "/keys/verify", { key: api_key }), 401, "unauthorized");
  });

  it("refills a key's rate limit on the mock clock, not the wall clock", async () => {
    const clock = manualClock();
    const m = start({ now: clock.now });
    const { api_key } = await m.state.createKey({ rate_limit: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call("GET", "/keys/verify", { key: api_key })).status);
    expect(statuses).toContain(429);
    const limited = await call("GET", "/keys/verify", { key: api_key });
    expectProblem(limited, 429, "rate_limited");
    clock.advance(60_000);
    expect((await call("GET", "/keys/verify", { key: api_key })).status).toBe(200);
  });
});

describe("permissions", () => {
  it("answers 403 naming the permission each operation's security requirement lists", async () => {
    const m = start();
    const ids: Record<string, string> = {
      job_id: "job_x",
      workspace_id: "ws_x",
      key_id: "key_x",
      endpoint_id: "we_x",
      delivery_id: "dlv_x",
    };
    let checked = 0;
    for (const [path, item] of Object.entries(m.spec.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, { security?: { bearerAuth: string[] }[] }>)) {
        const role = op.security?.[0]?.bearerAuth[0];
        if (method === "parameters" || role === undefined) continue;
        const others = [
          "jobs:create",
          "jobs:read",
          "jobs:continue",
          "jobs:cleanup",
          "workspaces:read",
          "workspaces:write",
        ];
        const permissions = others.filter((p) => p !== role) as never[];
        const { api_key } = await m.state.createKey({ permissions });
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? "x");
        const res = await call(method.toUpperCase(), url, { key: api_key });
        expectProblem(res, 403, "forbidden");
        expect(res.data.missing_permission).toBe(role);
        expect(res.headers.get("x-ratelimit-limit")).not.toBeNull();
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("lets admin:all do everything", async () => {
    const m = start();
    expect((await call("POST", "/jobs", { key: m.adminKey, json: cursorTask() })).status).toBe(200);
  });

  it("lets a key read its own record and usage (x-knify-self-access) but not another key's", async () => {
    const m = start();
    const me = await m.state.createKey({ permissions: ["jobs:read"] });
    const other = await m.state.createKey({ permissions: ["jobs:read"] });
    const own = await call("GET", `/keys/${me.key_id}`, { key: me.api_key });
    expect(own.status).toBe(200);
    expect(own.data).not.toHaveProperty("api_key");
    expect((await call("GET", `/keys/${me.key_id}/usage`, { key: me.api_key })).status).toBe(200);
    expectProblem(await call("GET", `/keys/${other.key_id}`, { key: me.api_key }), 403, "forbidden");
  });

  it("counts every authenticated request in the key's usage, whatever its status", async () => {
    const m = start();
    const me = await m.state.createKey({ permissions: ["jobs:read"] });
    await call("GET", "/jobs", { key: me.api_key });
    await call("POST", "/jobs", { key: me.api_key, json: cursorTask() }); // 403, still counted
    await call("GET", "/jobs");
    const usage = await call("GET", `/keys/${me.key_id}/usage`, { key: m.adminKey });
    expect(usage.data).toMatchObject({
      key_id: me.key_id,
      requests_today: 2,
      requests_this_month: 2,
      rate_limit: 1000,
    });
    expect(usage.data.last_used).not.toBeNull();
  });
});

describe("request validation", () => {
  it("lists every problem of the body in one 400", async () => {
    const m = start();
    const res = await call("POST", "/jobs", {
      key: m.adminKey,
      json: { spec: { job_type: "cursor_task", model: "gpt-2" }, x: 1 },
    });
    expectProblem(res, 400, "validation_failed");
    expect(res.data.errors).toEqual(
      expect.arrayContaining([
        // The server's wording and path: the unknown property is named (issue 9: the mock said "" before).
        { location: "body", path: "/x", message: "is not a known property" },
        { location: "body", path: "/spec", message: "must have required property 'prompt'" },
        expect.objectContaining({ location: "body", path: "/spec/model" }),
      ]),
    );
  });

  it("validates path and query parameters against the spec", async () => {
    const m = start();
    const bad = await call("GET", "/jobs?limit=0&status=sleeping", { key: m.adminKey });
    expectProblem(bad, 400, "validation_failed");
    expect(bad.data.errors.map((e: { location: string; path: string }) => `${e.location}:${e.path}`).sort()).toEqual([
      "query:limit",
      "query:status",
    ]);
    const path = await call("GET", "/jobs/not-a-job-id", { key: m.adminKey });
    expectProblem(path, 400, "validation_failed");
    expect(path.data.errors[0]).toMatchObject({ location: "path", path: "job_id" });
  });

  it("answers 400 invalid_json for malformed JSON and 415 for a non-JSON body", async () => {
    const m = start();
    const malformed = await call("POST", "/jobs", {
      key: m.adminKey,
      body: "{not json",
      headers: { "Content-Type": "application/json" },
    });
    expectProblem(malformed, 400, "invalid_json");
    const text = await call("POST", "/jobs", {
      key: m.adminKey,
      body: "spec",
      headers: { "Content-Type": "text/plain" },
    });
    expectProblem(text, 415, "unsupported_media_type");
  });
});

describe("workspace scope", () => {
  it("hides other workspaces' jobs with 404 and leaves them out of lists", async () => {
    const m = start();
    const mine = await m.state.createWorkspace({ name: "team-a" });
    const theirs = await m.state.createWorkspace({ name: "team-b" });
    const ownJob = await m.state.createJob({ job_type: "cursor_task", prompt: "a" }, mine.workspace_id);
    const otherJob = await m.state.createJob({ job_type: "cursor_task", prompt: "b" }, theirs.workspace_id);
    const { api_key } = await m.state.createKey({ workspace_id: mine.workspace_id });

    expect((await call("GET", `/jobs/${ownJob.id}`, { key: api_key })).status).toBe(200);
    expectProblem(await call("GET", `/jobs/${otherJob.id}`, { key: api_key }), 404, "not_found");
    expectProblem(await call("POST", `/jobs/${otherJob.id}/cleanup`, { key: api_key }), 404, "not_found");
    const list = await call("GET", "/jobs", { key: api_key });
    expect(list.data.map((j: { id: string }) => j.id)).toEqual([ownJob.id]);
    const elsewhere = cursorTask("x", { workspace_path: theirs.path });
    expectProblem(await call("POST", "/jobs", { key: api_key, json: elsewhere }), 404, "not_found");
    const created = await call("POST", "/jobs", { key: api_key, json: cursorTask() });
    expect((await m.state.getJob(created.data.job_id))?.workspace_id).toBe(mine.workspace_id);
  });
});

describe("lists", () => {
  it("pages newest first with limit, cursor and a Link to the next page", async () => {
    const m = start();
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4, 5])
      ids.push((await m.state.createJob({ job_type: "cursor_task", prompt: `job ${n}` })).id);
    const seen: string[][] = [];
    let url: string | undefined = `${BASE}/jobs?limit=2`;
    while (url !== undefined) {
      const res = await call("GET", url, { key: m.adminKey });
      expect(Array.isArray(res.data)).toBe(true);
      seen.push(res.data.map((j: { id: string }) => j.id));
      const link = res.headers.get("link");
      url = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
      if (link !== null) expect(url).toMatch(/^https:\/\/api\.knify\.io\/jobs\?limit=2&cursor=[A-Za-z0-9_-]+$/);
    }
    expect(seen).toEqual([[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]);
  });

  it("refuses a cursor it did not issue", async () => {
    const m = start();
    const res = await call("GET", "/jobs?cursor=bogus", { key: m.adminKey });
    expectProblem(res, 400, "validation_failed");
    expect(res.data.errors[0]).toMatchObject({ location: "query", path: "cursor" });
  });
});

describe("idempotency", () => {
  it("replays the first response for the same key and body, and refuses a different body with 422", async () => {
    const m = start();
    const headers = { "Idempotency-Key": "retry-1" };
    const first = await call("POST", "/jobs", { key: m.adminKey, json: cursorTask(), headers });
    const again = await call("POST", "/jobs", { key: m.adminKey, json: cursorTask(), headers });
    expect(again.status).toBe(200);
    expect(again.data).toEqual(first.data);
    expect(await m.state.listJobs()).toHaveLength(1);
    const other = await call("POST", "/jobs", { key: m.adminKey, json: cursorTask("Something else"), headers });
    expectProblem(other, 422, "idempotency_key_reused");
    expect(await m.state.listJobs()).toHaveLength(1);
  });
});

describe("job lifecycle", () => {
  it("runs pending → running → completed on the mock clock, with gapless events", async () => {
    const clock = manualClock();
    const m = start({ now: clock.now, jobDurationMs: 1000 });
    const created = await call("POST", "/jobs", { key: m.adminKey, json: cursorTask() });
    expect(created.data).toEqual({ job_id: expect.stringMatching(/^job_/), status: "pending" });
    const id = created.data.job_id;

    const running = await call("GET", `/jobs/${id}`, { key: m.adminKey });
    expect(running.data).toMatchObject({ status: "running", started_at: "2025-11-17T10:00:00Z", turns: 1 });
    expect(running.data.sandbox_id).toMatch(/^sbx_/);
    clock.advance(999);
    expect((await call("GET", `/jobs/${id}`, { key: m.adminKey })).data.status).toBe("running");
    clock.advance(1);
    const done = await call("GET", `/jobs/${id}`, { key: m.adminKey });
    expect(done.data).toMatchObject({ status: "completed", completed_at: "2025-11-17T10:00:01Z" });
    expect(done.data).not.toHaveProperty("error");

    const events = (await call("GET", `/jobs/${id}/events`, { key: m.adminKey })).data as {
      seq: number;
      type: string;
      data: { status?: string };
    }[];
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === "status").map((e) => e.data.status)).toEqual([
      "pending",
      "running",
      "completed",
    ]);
    const later = await call("GET", `/jobs/${id}/events?after=2&limit=1`, { key: m.adminKey });
    expect(later.data.map((e: { seq: number }) => e.seq)).toEqual([3]);
    expect(later.headers.get("link")).toBe(`<${BASE}/jobs/${id}/events?after=3&limit=1>; rel="next"`);
  });

  it("completes a job on the next request when jobDurationMs is 0", async () => {
    const m = start();
    const { data } = await call("POST", "/jobs", { key: m.adminKey, json: cursorTask() });
    expect((await call("GET", `/jobs/${data.job_id}`, { key: m.adminKey })).data.status).toBe("completed");
  });

  it("fails a job whose prompt holds [simulate:fail] or whose metadata.simulate is fail, as the server's simulator", async () => {
    const m = start();
    for (const extra of [{}, { metadata: { simulate: "fail" } }]) {
      const prompt = "extra" in extra ? "x" : "x [simulate:fail]";
      const { data } = await call("POST", "/jobs", { key: m.adminKey, json: cursorTask(prompt, extra) });
      const job = (await call("GET", `/jobs/${data.job_id}`, { key: m.adminKey })).data;
      expect(job.status).toBe("failed");
      expect(job.error).toEqual({ code: "agent_failed", message: "simulated failure" });
    }
  });

  it("continues only finished jobs, and never cleaned-up ones", async () => {
    const clock = manualClock();
    const m = start({ now: clock.now, jobDurationMs: 1000 });
    const { data } = await call("POST", "/jobs", { key: m.adminKey, json: cursorTask() });
    const next = { spec: { prompt: "Now add tests" } };
    const early = await call("POST", `/jobs/${data.job_id}/continue`, { key: m.adminKey, json: next });
    expectProblem(early, 409, "job_not_continuable");
    clock.advance(1000);
    const continued = await call("POST", `/jobs/${data.job_id}/continue`, { key: m.adminKey, json: next });
    expect(continued.data).toEqual({ job_id: data.job_id, status: "pending" });
    expect((await m.state.getJob(data.job_id))?.turns).toBe(2);

    const cleaned = await call("POST", `/jobs/${data.job_id}/cleanup`, { key: m.adminKey });
    expect(cleaned.data).toMatchObject({
      status: "failed",
      error: { code: "cleaned_up", message: "cleaned up while running" },
      sandbox_id: null,
    });
    expect(cleaned.data.cleaned_up_at).toBe("2025-11-17T10:00:01Z");
    const after = await call("POST", `/jobs/${data.job_id}/continue`, { key: m.adminKey, json: next });
    expectProblem(after, 409, "job_not_continuable");
  });

  it("lets tests force a status with state.setJobStatus", async () => {
    // A turn to move along: with the default jobDurationMs of 0 it would be over by the next request.
    const m = start({ jobDurationMs: 60_000 });
    const job = await m.state.createJob({ job_type: "cursor_task", prompt: "x" });
    await m.state.setJobStatus(job.id, "running");
    expect((await call("GET", `/jobs/${job.id}`, { key: m.adminKey })).data.status).toBe("running");
    await m.state.setJobStatus(job.id, "failed", "model unavailable");
    expect((await call("GET", `/jobs/${job.id}`, { key: m.adminKey })).data).toMatchObject({
      status: "failed",
      error: { code: "agent_failed", message: "model unavailable" },
    });
    await expect(m.state.setJobStatus(job.id, "completed")).rejects.toThrow(/has no turn queued or running/);
    const other = await m.state.createJob({ job_type: "cursor_task", prompt: "y" });
    await m.state.setJobStatus(other.id, "completed");
    expect(await m.state.getJob(other.id)).toMatchObject({ status: "completed", turns: 1 });
  });
});

/** Reads SSE messages until the server ends the stream. */
async function readSse(res: Response): Promise<{ id: string; event: string; data: { seq: number; type: string } }[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block !== "")
    .map((block) => {
      const fields = Object.fromEntries(
        block.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
      );
      return { id: fields.id ?? "", event: fields.event ?? "", data: JSON.parse(fields.data ?? "null") };
    });
}

describe("job events as server-sent events", () => {
  it("streams every event and ends when the job is finished", async () => {
    const m = start();
    const job = await m.state.createJob({ job_type: "cursor_task", prompt: "x" });
    const res = await fetch(`${BASE}/jobs/${job.id}/events`, {
      headers: { Authorization: `Bearer ${m.adminKey}`, Accept: "text/event-stream" },
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const messages = await readSse(res);
    expect(messages.map((msg) => Number(msg.id))).toEqual(messages.map((_, i) => i + 1));
    expect(messages.every((msg) => msg.event === msg.data.type)).toBe(true);
    expect(messages.at(-1)?.data).toMatchObject({ type: "status", data: { status: "completed" } });
  });

  it("follows a running job live and resumes after Last-Event-ID", async () => {
    const clock = manualClock();
    const m = start({ now: clock.now, jobDurationMs: 1000 });
    const job = await m.state.createJob({ job_type: "cursor_task", prompt: "x" });
    const res = await fetch(`${BASE}/jobs/${job.id}/events`, {
      headers: { Authorization: `Bearer ${m.adminKey}`, Accept: "text/event-stream", "Last-Event-ID": "1" },
    });
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toMatch(/^id: 2\nevent: turn\n/);
    clock.advance(1000); // the stream notices the mock clock and finishes the job
    let rest = "";
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      rest += new TextDecoder().decode(chunk.value);
    }
    expect(rest).toContain('"status":"completed"');
  });
});

describe("keys", () => {
  it("shows the secret on creation only", async () => {
    const m = start();
    const testAdmin = await m.state.createKey({ type: "test", permissions: ["admin:all"] });
    const created = await call("POST", "/keys", {
      key: testAdmin.api_key,
      json: { name: "Team A Key", type: "test", workspace_id: "ws_team_a", permissions: ["jobs:read"] },
    });
    expect(created.data).toMatchObject({ type: "test", rate_limit: 100, workspace_id: "ws_team_a" });
    expect(created.data.api_key).toMatch(/^knify_test_[A-Za-z0-9]{32}_[0-9a-f]{6}$/);
    const listed = await call("GET", "/keys", { key: m.adminKey });
    expect(listed.data[0].key_id).toBe(created.data.key_id);
    expect(listed.data.some((k: object) => "api_key" in k)).toBe(false);
  });

  it("caps unrevoked keys per workspace like the server (maxKeysPerWorkspace → 409 key_limit_reached)", async () => {
    const m = start({ maxKeysPerWorkspace: 2 });
    const create = () => call("POST", "/keys", { key: m.adminKey, json: { name: "n", workspace_id: "ws_cap" } });
    const first = await create();
    expect((await create()).status).toBe(200);
    const third = await create();
    expect(third.status).toBe(409);
    expect(third.data.code).toBe("key_limit_reached");
    await call("DELETE", `/keys/${first.data.key_id}`, { key: m.adminKey });
    expect((await create()).status).toBe(200);
  });

  it("gives a key without permissions every permission except admin:all", async () => {
    const m = start();
    const created = await call("POST", "/keys", { key: m.adminKey, json: { name: "default" } });
    expect(created.data.permissions).toEqual([
      "jobs:create",
      "jobs:read",
      "jobs:continue",
      "jobs:cleanup",
      "workspaces:read",
      "workspaces:write",
    ]);
  });
});

describe("workspaces", () => {
  const upload = (name: string, archive: Uint8Array = gzipSync("files")) => {
    const form = new FormData();
    form.set("name", name);
    form.set("workspace", new Blob([archive]), "workspace.tar.gz");
    return form;
  };

  it("stores a multipart upload and refuses a duplicate name with 409", async () => {
    const m = start();
    const archive = gzipSync("some files");
    const res = await call("POST", "/workspaces", { key: m.adminKey, body: upload("my-project", archive) });
    expect(res.data).toMatchObject({
      name: "my-project",
      path: "/workspaces/my-project",
      file_count: 0,
      size_bytes: archive.byteLength,
    });
    expectProblem(
      await call("POST", "/workspaces", { key: m.adminKey, body: upload("my-project") }),
      409,
      "workspace_exists",
    );
  });

  it("refuses a body that is not multipart (415) and an archive that is not gzip (400)", async () => {
    const m = start();
    expectProblem(
      await call("POST", "/workspaces", { key: m.adminKey, json: { name: "x" } }),
      415,
      "unsupported_media_type",
    );
    const notGzip = await call("POST", "/workspaces", {
      key: m.adminKey,
      body: upload("x", new TextEncoder().encode("plain")),
    });
    expectProblem(notGzip, 400, "invalid_archive");
  });

  it("creates exactly the workspace a scoped key names", async () => {
    const m = start();
    const { api_key } = await m.state.createKey({ workspace_id: "ws_team_a" });
    const res = await call("POST", "/workspaces", { key: api_key, body: upload("team-a") });
    expect(res.data.workspace_id).toBe("ws_team_a");
  });
});

describe("webhook endpoints", () => {
  it("shows the secret once and queues a pending webhook.test delivery", async () => {
    const m = start();
    const body = { url: "https://hooks.example.com/knify", workspace_id: "ws_abc123" };
    const created = await call("POST", "/webhook-endpoints", { key: m.adminKey, json: body });
    expect(created.data.secret).toMatch(/^whsec_/);
    const id = created.data.id;
    expect((await call("GET", `/webhook-endpoints/${id}`, { key: m.adminKey })).data).not.toHaveProperty("secret");
    const test = await call("POST", `/webhook-endpoints/${id}/test`, { key: m.adminKey });
    expect(test.data).toMatchObject({
      endpoint_id: id,
      event_type: "webhook.test",
      status: "pending",
      attempt_count: 0,
    });
    const deliveries = await call("GET", `/webhook-endpoints/${id}/deliveries`, { key: m.adminKey });
    expect(deliveries.data.map((d: { id: string }) => d.id)).toEqual([test.data.id]);
  });

  it("queues a delivery for each subscribed event of the endpoint's workspace", async () => {
    // A well-formed secret (checksum and all), e.g. one an earlier mock made.
    const admin = createKnifyMock().adminKey;
    const m = start({ adminKey: admin });
    expect(m.adminKey).toBe(admin);
    expect((await call("GET", "/keys/verify", { key: admin })).status).toBe(200);
    const ws = await m.state.createWorkspace({ name: "hooked" });
    const body = {
      url: "https://hooks.example.com/knify",
      workspace_id: ws.workspace_id,
      event_types: ["job.completed"],
    };
    const endpoint = await call("POST", "/webhook-endpoints", { key: admin, json: body });
    const job = await call("POST", "/jobs", { key: admin, json: cursorTask("x", { workspace_path: ws.path }) });
    await call("GET", `/jobs/${job.data.job_id}`, { key: admin });
    const deliveries = await call("GET", `/webhook-endpoints/${endpoint.data.id}/deliveries`, { key: admin });
    expect(deliveries.data.map((d: { event_type: string }) => d.event_type)).toEqual(["job.completed"]);
    const queued = (await m.state.deliveries()).find((d) => d.delivery.id === deliveries.data[0].id);
    expect(queued?.event.data).toMatchObject({ id: job.data.job_id, status: "completed" });
  });

  it("refuses loopback URLs unless allowPrivateWebhookUrls is set", async () => {
    const body = { url: "http://127.0.0.1:9000/hook", workspace_id: "ws_abc123" };
    const strict = start();
    expectProblem(
      await call("POST", "/webhook-endpoints", { key: strict.adminKey, json: body }),
      400,
      "validation_failed",
    );
    const lenient = start({ allowPrivateWebhookUrls: true });
    expect((await call("POST", "/webhook-endpoints", { key: lenient.adminKey, json: body })).status).toBe(200);
  });
});

describe("responseValidator", () => {
  const job = {
    id: "job_abc",
    workspace_id: null,
    spec: { job_type: "cursor_task", prompt: "Hello" },
    status: "completed",
    created_at: "2025-11-17T10:00:00Z",
    started_at: null,
    completed_at: null,
    sandbox_id: null,
    cursor_session_id: null,
    turns: 1,
    cleaned_up_at: null,
  };

  it("accepts a body that matches the spec and names what is wrong in one that does not", async () => {
    const check = responseValidator(createKnifyMock().spec);
    expect(check("getJob", 200, job, "application/json")).toEqual([]);
    const { status: _, ...withoutStatus } = job;
    expect(check("getJob", 200, withoutStatus, "application/json")).toEqual([
      "getJob 200 body must have required property 'status'",
    ]);
    expect(check("getJob", 409, job, "application/problem+json")[0]).toMatch(/does not document status 409/);
    expect(check("getJob", 200, job, "text/html")[0]).toMatch(/not text\/html/);
    expect(check("deleteWorkspace", 204, undefined)).toEqual([]);
  });

  it("makes the mock throw instead of answering something the spec does not allow", async () => {
    // The mock's rules are the server's, so no request makes them break the spec; the check that guards the
    // mock is tested on a handler that does (a job with `turns: 0`, under the spec's `minimum: 1`).
    const m = createKnifyMock();
    const job = {
      id: "job_abc",
      workspace_id: null,
      spec: { job_type: "cursor_task", prompt: "x" },
      status: "completed",
    };
    const broken = async () => Response.json({ ...job, created_at: "2025-11-17T10:00:00Z", turns: 0 });
    const violations: string[] = [];
    const checked = checkResponses(broken, "", m.validateResponse, violations);
    await expect(checked(new Request(`${BASE}/jobs/job_abc`))).rejects.toBeInstanceOf(MockSpecViolation);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/getJob 200 body\/turns must be >= 1/);
    // A response the spec allows passes untouched, and a path the spec does not have is not checked.
    const fine = async () => Response.json({ job_id: "job_abc", status: "pending" });
    expect((await checked(new Request(`${BASE}/nowhere`))).status).toBe(200);
    await expect(
      checkResponses(fine, "", m.validateResponse, violations)(new Request(`${BASE}/jobs`, { method: "POST" })),
    ).resolves.toBeInstanceOf(Response);
    expect(violations).toHaveLength(1);
  });
});
