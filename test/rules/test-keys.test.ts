import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 17: test keys always use the simulator — even on a server whose runner starts a real agent
// (here the command runner with the fake agent, which prints what its prompt tells it to).

const AGENTS = fileURLToPath(new URL("../fixtures/agents", import.meta.url));
const AGENT = join(AGENTS, "fake-agent.mjs");
const REAL = "the real agent ran";
const PROMPT = `say:${REAL}`;

let server: TestServer;
let live = "";
let test = "";

beforeAll(async () => {
  server = await startTestServer({
    env: {
      KNIFY_RUNNER: "command",
      KNIFY_AGENT_COMMAND: `exec '${process.execPath}' '${AGENT}' "$1"`,
      KNIFY_SANDBOX_READONLY_PATHS: AGENTS,
      KNIFY_SIMULATOR_DELAY_MS: "0",
    },
  });
  live = (await server.key({ name: "live", workspaceId: "ws_modes" })).apiKey;
  test = (await server.key({ name: "test", type: "test", workspaceId: "ws_modes" })).apiKey;
}, 60_000);
afterAll(() => server.stop());

async function finishedTurn(apiKey: string, id: string, turns: number) {
  await vi.waitFor(
    async () => {
      const job = (await call(server.url, "GET", `/jobs/${id}`, { key: apiKey })).body;
      expect(job).toMatchObject({ turns, status: "completed" });
    },
    { timeout: 30_000, interval: 25 },
  );
}

/** The stdout lines of one turn of a job. */
async function turnOutput(apiKey: string, id: string, turn: number): Promise<string[]> {
  const events = (await call(server.url, "GET", `/jobs/${id}/events?limit=100`, { key: apiKey })).body as {
    type: string;
    data: { turn?: number; stream?: string; line?: string };
  }[];
  const lines: string[] = [];
  let current = 0;
  for (const event of events) {
    if (event.type === "turn") current = event.data.turn ?? 0;
    if (event.type === "output" && event.data.stream === "stdout" && current === turn)
      lines.push(String(event.data.line));
  }
  return lines;
}

const startJob = async (apiKey: string) => {
  const res = await call(server.url, "POST", "/jobs", {
    key: apiKey,
    body: { spec: { job_type: "cursor_task", prompt: PROMPT } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.job_id as string;
};
const continueJob = async (apiKey: string, id: string) => {
  const res = await call(server.url, "POST", `/jobs/${id}/continue`, {
    key: apiKey,
    body: { spec: { prompt: PROMPT } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
};

// A jailed agent starts slowly on a loaded machine: each test may wait for up to two turns.
describe("a job's runner", { timeout: 90_000 }, () => {
  it("is the configured agent for a live key (the control: this server really runs agents)", async () => {
    const id = await startJob(live);
    await finishedTurn(live, id, 1);
    expect(await turnOutput(live, id, 1)).toContain(REAL);
  });

  it("is the simulator for a test key, on the same server with the same prompt", async () => {
    const id = await startJob(test);
    await finishedTurn(test, id, 1);
    const lines = await turnOutput(test, id, 1);
    expect(lines[0]).toMatch(/^simulator: turn 1 of job_/);
    expect(lines).not.toContain(REAL);
  });

  it("stays the simulator when a live key continues a test key's job", async () => {
    const id = await startJob(test);
    await finishedTurn(test, id, 1);
    await continueJob(live, id);
    await finishedTurn(live, id, 2);
    const lines = await turnOutput(live, id, 2);
    expect(lines[0]).toMatch(/^simulator: turn 2 of job_/);
    expect(lines).not.toContain(REAL);
  });

  it("is the simulator for a test key's turn of a live key's job", async () => {
    const id = await startJob(live);
    await finishedTurn(live, id, 1);
    await continueJob(test, id);
    await finishedTurn(test, id, 2);
    const lines = await turnOutput(test, id, 2);
    expect(lines[0]).toMatch(/^simulator: turn 2 of job_/);
    expect(lines).not.toContain(REAL);
  });
});
