import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config.js";
import { RESTART_ERROR } from "../../server/src/jobs/module.js";
import { sandboxDir } from "../../server/src/jobs/sandbox-paths.js";
import { createKey } from "../../server/src/keys/create-key.js";
import { createLogger } from "../../server/src/logger.js";
import { startServer } from "../../server/src/server.js";
import { jobProcesses } from "../support/processes.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { until } from "../support/until.js";

// The command runner with a real agent process (test/fixtures/agents/fake-agent.mjs, scripted by its prompt).

const AGENTS = fileURLToPath(new URL("../fixtures/agents", import.meta.url));
const AGENT = join(AGENTS, "fake-agent.mjs");
// Jailed (the default isolation): the fixture is mounted read-only at its own path, node comes from /usr.
const COMMAND_ENV = {
  KNIFY_RATE_LIMIT_LIVE: "100000",
  KNIFY_RUNNER: "command",
  KNIFY_AGENT_COMMAND: `exec '${process.execPath}' '${AGENT}' "$1"`,
  KNIFY_SANDBOX_READONLY_PATHS: AGENTS,
};

interface Job {
  id: string;
  status: string;
  sandbox_id: string | null;
  cursor_session_id: string | null;
  turns: number;
  error?: { code: string; message: string };
}
interface JobEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

function client(url: string, apiKey: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}
type Api = ReturnType<typeof client>;

const getJob = async (api: Api, id: string) => (await api("GET", `/jobs/${id}`)).body as Job;
const events = async (api: Api, id: string) => (await api("GET", `/jobs/${id}/events?limit=100`)).body as JobEvent[];
const outputLines = async (api: Api, id: string, stream = "stdout") =>
  (await events(api, id))
    .filter((e) => e.type === "output" && e.data.stream === stream)
    .map((e) => String(e.data.line));

async function run(api: Api, prompt: string): Promise<string> {
  const res = await api("POST", "/jobs", { spec: { job_type: "cursor_task", prompt } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.job_id;
}

async function finished(api: Api, id: string): Promise<Job> {
  return until(`${id} to finish`, async () => {
    const job = await getJob(api, id);
    return job.status === "completed" || job.status === "failed" ? job : undefined;
  });
}

/** The number after `<name>=` in the job's stdout, once the agent printed it. */
async function printed(api: Api, id: string, name: string): Promise<number> {
  return until(`${name}= from ${id}`, async () => {
    const line = (await outputLines(api, id)).find((l) => l.startsWith(`${name}=`));
    return line ? Number(line.slice(name.length + 1)) : undefined;
  });
}

/** The number of the job's live processes on the host (the pids an agent prints are its jail's own). */
const running = (id: string) => jobProcesses(id).length;

describe("the command runner", () => {
  let server: TestServer;
  let api: Api;

  beforeAll(async () => {
    server = await startTestServer({ env: { ...COMMAND_ENV, KNIFY_MAX_CONCURRENT_JOBS: "2" } });
    api = client(server.url, server.adminKey);
  });
  afterAll(() => server.stop());

  it("streams the agent's stdout lines as output events and completes on exit 0", async () => {
    const id = await run(api, "say:hello;say:second line;env;session:ses_agent42");
    const job = await finished(api, id);
    expect(job).toMatchObject({ status: "completed", cursor_session_id: "ses_agent42" });
    const lines = await outputLines(api, id);
    expect(lines.slice(0, 2)).toEqual(["hello", "second line"]);
    const env = lines.find((l) => l.startsWith("env "));
    // The agent runs in its sandbox, with the job's variables and without the server's own settings.
    expect(env).toContain("cwd=/workspace");
    expect(env).toContain(`job=${id} `);
    expect(env).toContain("turn=1 ");
    expect(env).toContain("prompt_env=true");
    expect(env).toContain("server_setting=unset");
    expect(env).toMatch(/session=ses_\w+/);
    const all = await events(api, id);
    expect(all.at(-1)?.data).toEqual({ status: "completed" });
  });

  it("fails a turn that exits non-zero, quoting the tail of stderr", async () => {
    const long = "x".repeat(3000);
    const id = await run(api, `say:working;err:${long};err:model unavailable;exit:3`);
    const job = await finished(api, id);
    expect(job.status).toBe("failed");
    expect(job.error?.code).toBe("agent_failed");
    expect(job.error?.message).toMatch(/^agent exited with code 3: x+\nmodel unavailable$/);
    expect((job.error?.message ?? "").length).toBeLessThan(2100);
    expect(await outputLines(api, id, "stderr")).toEqual([long, "model unavailable"]);
  });

  it("continues in the same sandbox with the agent's session", async () => {
    const id = await run(api, "write:notes.md;session:ses_from_agent");
    const first = await finished(api, id);
    expect(first.status).toBe("completed");
    expect((await api("POST", `/jobs/${id}/continue`, { spec: { prompt: "ls;env" } })).status).toBe(200);
    const job = await until("turn 2", async () => {
      const j = await getJob(api, id);
      return j.turns === 2 && j.status === "completed" ? j : undefined;
    });
    expect(job.sandbox_id).toBe(first.sandbox_id);
    const lines = await outputLines(api, id);
    expect(lines).toContain("ls notes.md");
    expect(lines.find((l) => l.startsWith("env "))).toContain("session=ses_from_agent turn=2 ");
  });

  it("keeps queued jobs pending at the concurrency cap, and cleanup kills the agent's process tree", async () => {
    const ids = [await run(api, "pid;child;sleep:30000"), await run(api, "pid;sleep:30000")];
    const third = await run(api, "say:third;exit:0");
    for (const id of ids)
      await until(`${id} running`, async () => ((await getJob(api, id)).status === "running" ? true : undefined));
    await printed(api, ids[0] ?? "", "pid");
    await printed(api, ids[0] ?? "", "child");
    // The jail (bwrap, its init), setpriv→prlimit→sh exec'd into node, and node's `sleep` child.
    expect(running(ids[0] ?? "")).toBeGreaterThanOrEqual(3);
    // Two run, so the third waits; give the scheduler a chance to (wrongly) start it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await getJob(api, third)).toMatchObject({ status: "pending", sandbox_id: null });

    const sandbox = (await getJob(api, ids[0] ?? "")).sandbox_id ?? "";
    const cleaned = await api("POST", `/jobs/${ids[0]}/cleanup`);
    expect(cleaned.body).toMatchObject({
      status: "failed",
      error: { code: "cleaned_up", message: "cleaned up while running" },
      sandbox_id: null,
    });
    await until("the agent and its child to die", () => (running(ids[0] ?? "") === 0 ? true : undefined));
    expect(existsSync(sandboxDir(server.dataDir, sandbox))).toBe(false);
    // A place is free: the third job runs now.
    expect((await finished(api, third)).status).toBe("completed");
    await api("POST", `/jobs/${ids[1]}/cleanup`);
  });
});

describe("the command runner's timeout", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...COMMAND_ENV, KNIFY_JOB_TIMEOUT_MS: "3000" } });
  });
  afterAll(() => server.stop());

  it("fails a turn that runs too long", async () => {
    const api = client(server.url, server.adminKey);
    const id = await run(api, "pid;sleep:30000");
    await printed(api, id, "pid");
    const job = await finished(api, id);
    expect(job).toMatchObject({ status: "failed", error: { code: "timed_out", message: "timed out after 3 s" } });
    await until("the jail to go", () => (running(id) === 0 ? true : undefined));
  });
});

describe("restart recovery", () => {
  it("fails a job that was running when its server stopped", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "knify-restart-"));
    const env = { ...COMMAND_ENV, KNIFY_DATA_DIR: dataDir, KNIFY_PORT: "0", KNIFY_HOST: "127.0.0.1" };
    const logger = createLogger("silent");
    try {
      const first = await startServer(loadConfig(env), logger, { env });
      const { apiKey } = await createKey(first.store, loadConfig(env), Date.now(), { name: "restart" });
      const before = client(first.url, apiKey);
      const id = await run(before, "pid;sleep:30000");
      await printed(before, id, "pid");
      expect((await getJob(before, id)).status).toBe("running");
      expect(running(id)).toBeGreaterThan(0);
      await first.close(1000);
      // Stopping the server stops its agents too.
      await until("the agent to die", () => (running(id) === 0 ? true : undefined));

      const second = await startServer(loadConfig(env), logger, { env });
      try {
        const after = client(second.url, apiKey);
        expect(await getJob(after, id)).toMatchObject({
          status: "failed",
          error: { code: "interrupted", message: RESTART_ERROR },
        });
        const tail = (await events(after, id)).slice(-2);
        expect(tail.map((e) => [e.type, e.data])).toEqual([
          ["system", { message: RESTART_ERROR }],
          ["status", { status: "failed", error: { code: "interrupted", message: RESTART_ERROR } }],
        ]);
        // The recovered job can be continued.
        expect((await after("POST", `/jobs/${id}/continue`, { spec: { prompt: "say:back" } })).status).toBe(200);
        expect((await finished(after, id)).status).toBe("completed");
      } finally {
        await second.close(1000);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
