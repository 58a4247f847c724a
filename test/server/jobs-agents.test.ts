import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type AgentResultData, type Job, type JobEvent, JobFailedError, KnifyClient } from "@knify/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxDir } from "../../server/src/jobs/sandbox-paths.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { until } from "../support/until.js";

// KNIFY_RUNNER=agents with stand-ins of the three CLIs on PATH (test/fixtures/agents/stand-in.mjs, linked
// under each CLI's name), which replay recorded stream-json transcripts and log the arguments they got.

const STAND_IN = fileURLToPath(new URL("../fixtures/agents/stand-in.mjs", import.meta.url));
const NODE_DIR = dirname(process.execPath);
const KEYS = {
  CURSOR_API_KEY: "key_0123456789abcdef0123456789abcdef",
  ANTHROPIC_API_KEY: "sk-ant-api03-test-secret-value-0001",
  GEMINI_API_KEY: "AIzaSyTestSecretValueForGeminiCLI0001",
};

interface Call {
  agent: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  pid: number;
}

/** A temp bin directory holding the stand-ins under the CLIs' names (searchable by a jailed agent's uid). */
function standIns(names = ["cursor-agent", "claude", "gemini"]) {
  const bin = mkdtempSync(join(tmpdir(), "knify-agents-bin-"));
  chmodSync(bin, 0o755);
  for (const name of names) symlinkSync(STAND_IN, join(bin, name));
  return { bin, remove: () => rmSync(bin, { recursive: true, force: true }) };
}

/** What the stand-ins were run with in a sandbox (they log to $HOME, which is the sandbox). */
function callsIn(sandbox: string): Call[] {
  const log = join(sandbox, ".stand-in", "calls.jsonl");
  return existsSync(log)
    ? readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Call)
    : [];
}

const agentsEnv = (pathDirs: string[], extra: Record<string, string> = {}) => ({
  KNIFY_RUNNER: "agents",
  KNIFY_RATE_LIMIT_LIVE: "100000",
  PATH: [...pathDirs, NODE_DIR, "/usr/bin", "/bin"].join(delimiter),
  SERVER_ONLY_SECRET: "must-not-reach-the-agent",
  ...extra,
});

/** Unjailed, as the operator may ask by name: the tests then see the agent's host pid and paths. */
const UNJAILED = { KNIFY_SANDBOX_ISOLATION: "none" };

async function allEvents(client: KnifyClient, id: string): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const event of client.jobs.events(id, { limit: 100 })) events.push(event);
  return events;
}

const wait = { pollInterval: 25, timeout: 30_000 };

/** What each agent's recorded transcripts say, and how its job looks. */
const AGENTS = [
  {
    jobType: "cursor_task",
    agent: "cursor",
    session: "c6b62c6f-7ead-4fd6-9922-e952131177ff",
    firstArgs: ["-p", "--force", "--output-format", "stream-json", "--model", "composer-1", "--"],
    model: "composer-1",
    result:
      "I'll read the package manifest first.I added README.md: it names the demo package and says what it is for.",
    usage: { duration_ms: 5234, duration_api_ms: 5234 },
    resumed: "The edit did not apply at first; I rewrote the section. README.md now ends with an MIT license section.",
    credential: "CURSOR_API_KEY",
  },
  {
    jobType: "claude_task",
    agent: "claude",
    session: "8f2b7f4e-3c1d-4a5b-9e6f-0a1b2c3d4e5f",
    firstArgs: [
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--permission-mode",
      "acceptEdits",
      "--model",
      "claude-sonnet-4-5",
      "--",
    ],
    model: "sonnet-4.5",
    result: "I added README.md: it names the demo package and says what it is for.",
    usage: { input_tokens: 12, output_tokens: 311, cost_usd: 0.0421, num_turns: 5 },
    resumed: "I could not run the tests here; the license section is added to README.md.",
    credential: "ANTHROPIC_API_KEY",
  },
  {
    jobType: "gemini_task",
    agent: "gemini",
    session: "3f0e8a52-6c4e-4b8e-a3c1-1e2d3c4b5a69",
    firstArgs: ["--output-format", "stream-json", "--approval-mode", "auto_edit"],
    model: "auto",
    result:
      "I'll read the package manifest first.\n\nI added README.md: it names the demo package and says what it is for.",
    usage: { input_tokens: 8790, output_tokens: 330, total_tokens: 9120, tool_calls: 2 },
    resumed: "README.md had no license heading; I appended an MIT license section.",
    credential: "GEMINI_API_KEY",
  },
] as const;

describe("KNIFY_RUNNER=agents", () => {
  const bin = standIns();
  let server: TestServer;
  let client: KnifyClient;

  beforeAll(async () => {
    server = await startTestServer({ env: agentsEnv([bin.bin], { ...KEYS, ...UNJAILED }) });
    client = new KnifyClient(server.adminKey, { baseURL: server.url, maxRetries: 0 });
  });
  afterAll(async () => {
    await server.stop();
    bin.remove();
  });

  const callsOf = (sandbox: string) => callsIn(sandbox);

  for (const agent of AGENTS) {
    describe(agent.jobType, () => {
      let job: Job;

      it("runs the CLI headless in the sandbox, its words become events, and the job keeps result, usage and session", async () => {
        const prompt = "Add a README that says what this project does";
        job = await client.jobs.createAndWait({ job_type: agent.jobType, prompt, model: agent.model }, wait);
        expect(job).toMatchObject({ status: "completed", session_id: agent.session, result: agent.result, turns: 1 });
        expect(job.usage).toMatchObject(agent.usage);
        expect(job.cursor_session_id).toBe(agent.agent === "cursor" ? agent.session : null);

        const sandbox = sandboxDir(server.dataDir, job.sandbox_id ?? "");
        const [call, ...more] = callsOf(sandbox);
        expect(more).toEqual([]);
        // The prompt is one argument, no shell in between, and a first turn resumes nothing.
        expect(call?.argv).toEqual(
          agent.agent === "gemini" ? [...agent.firstArgs, `--prompt=${prompt}`] : [...agent.firstArgs, prompt],
        );
        // The jail's variables, NO_COLOR and this agent's own credential reach it: nothing else of the server's.
        expect(Object.keys(call?.env ?? {}).sort()).toEqual(
          [agent.credential, "HOME", "LANG", "NO_COLOR", "PATH", "TMPDIR"].sort(),
        );
        expect(call?.env[agent.credential]).toBe(KEYS[agent.credential]);
        expect(call?.env.HOME).toBe(sandbox);
        expect(call?.cwd).toBe(sandbox);
        expect(readFileSync(join(sandbox, "README.md"), "utf8")).toContain("A demo package.");

        const events = await allEvents(client, job.id);
        const messages = events.filter((e) => e.type === "agent.message").map((e) => e.data.text);
        expect(messages).toContain("I added README.md: it names the demo package and says what it is for.");
        const calls = events.filter((e) => e.type === "agent.tool_call").map((e) => e.data.status);
        expect(calls).toEqual(["started", "success", "started", "success"]);
        const result = events.find((e) => e.type === "agent.result")?.data as AgentResultData | undefined;
        expect(result).toMatchObject({ agent: agent.agent, is_error: false, text: agent.result });
        expect(result?.usage).toEqual(job.usage);
        // The agent's events come between "running" and "completed".
        expect(events.at(-1)).toMatchObject({ type: "status", data: { status: "completed" } });
        expect(events.findIndex((e) => e.type === "agent.result")).toBeGreaterThan(
          events.findIndex((e) => e.type === "status" && e.data.status === "running"),
        );
      });

      it("continue resumes the agent's session", async () => {
        await client.jobs.continue(job.id, { prompt: "Now add a license section" });
        const next = await client.jobs.waitFor(job.id, wait);
        expect(next).toMatchObject({ status: "completed", turns: 2, session_id: agent.session, result: agent.resumed });
        const calls = callsOf(sandboxDir(server.dataDir, job.sandbox_id ?? ""));
        expect(calls).toHaveLength(2);
        const argv = calls[1]?.argv ?? [];
        expect(argv.slice(argv.indexOf("--resume"), argv.indexOf("--resume") + 2)).toEqual(["--resume", agent.session]);
        expect(argv.at(-1)).toBe(
          agent.agent === "gemini" ? "--prompt=Now add a license section" : "Now add a license section",
        );
      });
    });
  }

  it("keeps a line of a type it does not know as agent.output", async () => {
    const job = await client.jobs.createAndWait({ job_type: "gemini_task", prompt: "Add a README" }, wait);
    const outputs = (await allEvents(client, job.id)).filter((e) => e.type === "agent.output");
    expect(outputs.map((e) => JSON.parse(String(e.data.line)))).toMatchObject([{ type: "error", severity: "warning" }]);
  });

  it("fails a turn whose result is an error with the CLI's message, and redacts its key from stderr", async () => {
    const failed = await client.jobs
      .createAndWait({ job_type: "claude_task", prompt: "Fix it [transcript:error]" }, wait)
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(JobFailedError);
    const job = (failed as JobFailedError).job;
    expect(job).toMatchObject({ status: "failed", error: { code: "agent_failed" } });
    expect(job.error?.message).toContain("Invalid API key · Fix external API key");
    expect(job.result).toBeUndefined();
    const events = await allEvents(client, job.id);
    const stderr = events.flatMap((e) => (e.type === "output" && e.data.stream === "stderr" ? [e.data.line] : []));
    expect(stderr).toEqual(["API error 401 for key [redacted]"]);
    expect(JSON.stringify(events)).not.toContain(KEYS.ANTHROPIC_API_KEY);
  });

  it("fails a turn that exits non-zero with its stderr, secrets redacted", async () => {
    const { job_id } = await client.jobs.create({ job_type: "cursor_task", prompt: "Go [transcript:error]" });
    const job = await client.jobs.waitFor(job_id, wait).catch((error: JobFailedError) => error.job);
    expect(job).toMatchObject({ status: "failed", error: { code: "agent_failed" } });
    expect(job.error?.message).toMatch(/cursor-agent exited with code 1: Error: the API key \[redacted\] was rejected/);
    expect(job.error?.message).not.toContain(KEYS.CURSOR_API_KEY);
  });

  it("builds fh_e2e_tools' prompt from the spec's template, on the Cursor CLI", async () => {
    const job = await client.jobs.createAndWait(
      { job_type: "fh_e2e_tools", prompt: "Create a test user using the runbook @create-user.md" },
      wait,
    );
    expect(job).toMatchObject({ status: "completed", cursor_session_id: AGENTS[0].session });
    const [call] = callsOf(sandboxDir(server.dataDir, job.sandbox_id ?? ""));
    expect(call?.agent).toBe("cursor");
    expect(call?.argv.at(-1)).toMatch(
      /^You are running end-to-end test tooling .*\nCreate a test user using the runbook @create-user\.md$/s,
    );
  });

  it("gives user_exam, which has no prompt, one built from its user and time range", async () => {
    const job = await client.jobs.createAndWait(
      {
        job_type: "user_exam",
        user_id: "u_42",
        time_range: { from: "2025-11-01T00:00:00Z", to: "2025-11-08T00:00:00Z" },
      },
      wait,
    );
    expect(job.status).toBe("completed");
    const [call] = callsOf(sandboxDir(server.dataDir, job.sandbox_id ?? ""));
    expect(call?.argv.at(-1)).toMatch(
      /^Examine the activity of user u_42 from 2025-11-01T00:00:00Z to 2025-11-08T00:00:00Z using the files/,
    );
  });

  it("refuses a model the agent does not have", async () => {
    const job = await client.jobs
      .createAndWait({ job_type: "gemini_task", prompt: "Hi", model: "opus-4.1" }, wait)
      .catch((error: JobFailedError) => error.job);
    expect(job).toMatchObject({ status: "failed", error: { code: "model_not_supported" } });
    expect(job.error?.message).toContain('no model "opus-4.1"');
  });

  it("stops the agent's process when the job is cleaned up", async () => {
    const { job_id } = await client.jobs.create({ job_type: "claude_task", prompt: "Wait [hang]" });
    const sandbox = await until("the agent's sandbox", async () => {
      const id = (await client.jobs.get(job_id)).sandbox_id;
      return id ? sandboxDir(server.dataDir, id) : undefined;
    });
    const call = await until("the agent's first call", () => callsIn(sandbox)[0]);
    await client.jobs.cleanup(job_id);
    expect(await client.jobs.get(job_id)).toMatchObject({ status: "failed" });
    await until("the agent process to end", () => (isAlive(call.pid) ? undefined : true));
  });
});

describe("KNIFY_RUNNER=agents with KNIFY_JOB_TIMEOUT_MS", () => {
  const bin = standIns();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: agentsEnv([bin.bin], { KNIFY_JOB_TIMEOUT_MS: "1500", ...UNJAILED }) });
  });
  afterAll(async () => {
    await server.stop();
    bin.remove();
  });

  it("fails a turn that runs too long with timed_out, and kills the agent", async () => {
    const client = new KnifyClient(server.adminKey, { baseURL: server.url, maxRetries: 0 });
    const job = await client.jobs
      .createAndWait({ job_type: "cursor_task", prompt: "Wait [hang]" }, wait)
      .catch((error: JobFailedError) => error.job);
    expect(job).toMatchObject({ status: "failed", error: { code: "timed_out", message: "timed out after 1.5 s" } });
    // The stand-in may not even have started on a busy machine; when it did, it is gone now.
    for (const call of callsIn(sandboxDir(server.dataDir, job.sandbox_id ?? ""))) {
      await until("the agent process to end", () => (isAlive(call.pid) ? undefined : true));
    }
  });
});

describe("KNIFY_RUNNER=agents without the CLIs", () => {
  let server: TestServer;
  let client: KnifyClient;

  beforeAll(async () => {
    server = await startTestServer({ env: agentsEnv([], UNJAILED) });
    client = new KnifyClient(server.adminKey, { baseURL: server.url, maxRetries: 0 });
  });
  afterAll(() => server.stop());

  it("fails the job at once with agent_not_installed, naming the binary and its variable", async () => {
    const failed = await client.jobs
      .createAndWait({ job_type: "cursor_task", prompt: "Hello" }, wait)
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(JobFailedError);
    const job = (failed as JobFailedError).job;
    expect(job).toMatchObject({ status: "failed", error: { code: "agent_not_installed" }, session_id: null });
    expect(job.error?.message).toContain('"cursor-agent"');
    expect(job.error?.message).toContain("KNIFY_CURSOR_AGENT_BIN");
    // Over plain HTTP too.
    const res = await fetch(`${server.url}/jobs/${job.id}`, {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    expect(await res.json()).toMatchObject({ error: { code: "agent_not_installed" } });
  });

  it("names the variable of each agent", async () => {
    const job = await client.jobs
      .createAndWait({ job_type: "gemini_task", prompt: "Hello" }, wait)
      .catch((error: JobFailedError) => error.job);
    expect(job.error?.message).toContain("KNIFY_GEMINI_BIN");
  });
});

describe("KNIFY_RUNNER=agents with a binary set by its variable", () => {
  const bin = standIns(["my-claude"]);
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      env: agentsEnv([], {
        KNIFY_CLAUDE_BIN: join(bin.bin, "my-claude"),
        CURSOR_API_KEY: KEYS.CURSOR_API_KEY,
        ...UNJAILED,
      }),
    });
  });
  afterAll(async () => {
    await server.stop();
    bin.remove();
  });

  it("runs that binary, and passes no credential the server does not have, nor another agent's", async () => {
    const client = new KnifyClient(server.adminKey, { baseURL: server.url, maxRetries: 0 });
    const job = await client.jobs.createAndWait({ job_type: "claude_task", prompt: "Hello" }, wait);
    expect(job.status).toBe("completed");
    const [call] = callsIn(sandboxDir(server.dataDir, job.sandbox_id ?? ""));
    expect(Object.keys(call?.env ?? {}).sort()).toEqual(["HOME", "LANG", "NO_COLOR", "PATH", "TMPDIR"]);
  });
});

describe("KNIFY_RUNNER=agents in the bubblewrap jail", () => {
  const bin = standIns();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      env: agentsEnv([bin.bin], {
        ...KEYS,
        // The stand-ins live outside /usr: the jail mounts them (and what they link to) read-only.
        KNIFY_SANDBOX_READONLY_PATHS: [bin.bin, dirname(STAND_IN)].join(","),
      }),
    });
  });
  afterAll(async () => {
    await server.stop();
    bin.remove();
  });

  it("runs the agent jailed in /workspace, keeps its session and resumes it", async () => {
    const client = new KnifyClient(server.adminKey, { baseURL: server.url, maxRetries: 0 });
    const job = await client.jobs.createAndWait({ job_type: "claude_task", prompt: "Add a README" }, wait);
    expect(job).toMatchObject({ status: "completed", session_id: AGENTS[1].session, result: AGENTS[1].result });
    await client.jobs.continue(job.id, { prompt: "Now add a license section" });
    expect(await client.jobs.waitFor(job.id, wait)).toMatchObject({ status: "completed", result: AGENTS[1].resumed });
    const sandbox = sandboxDir(server.dataDir, job.sandbox_id ?? "");
    const [first, second] = callsIn(sandbox);
    expect(first).toMatchObject({
      cwd: "/workspace",
      env: { HOME: "/workspace", ANTHROPIC_API_KEY: KEYS.ANTHROPIC_API_KEY },
    });
    expect(first?.env).not.toHaveProperty("SERVER_ONLY_SECRET");
    expect(first?.env).not.toHaveProperty("CURSOR_API_KEY");
    expect(second?.argv).toEqual(expect.arrayContaining(["--resume", AGENTS[1].session]));
    expect(readFileSync(join(sandbox, "README.md"), "utf8")).toContain("A demo package.");
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
