import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { KnifyClient } from "@knify/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 15, item 9: the agent gets the prompt as one argv string ("$1") and in $KNIFY_PROMPT, each capped
// by Linux at 128 KiB, so a 100,000-character prompt of multi-byte characters failed with spawn E2BIG.
// The spec caps prompts at 100,000 UTF-8 bytes; a prompt at the cap must reach a real agent process.
const AGENT = fileURLToPath(new URL("../fixtures/agents/fake-agent.mjs", import.meta.url));
let server: TestServer;
let client: KnifyClient;

beforeAll(async () => {
  server = await startTestServer({
    env: {
      KNIFY_RUNNER: "command",
      KNIFY_AGENT_COMMAND: `exec '${process.execPath}' '${AGENT}' "$1"`,
      // Jailed: the fixture is mounted read-only at its own path.
      KNIFY_SANDBOX_READONLY_PATHS: dirname(AGENT),
    },
  });
  client = new KnifyClient(server.adminKey, { baseURL: server.url, maxRetries: 0 });
});
afterAll(() => server.stop());

describe("a prompt at the byte cap with the command runner", () => {
  it("runs the agent (no E2BIG) with the prompt as its argument", async () => {
    const text = "€".repeat(33_331); // 3 bytes each
    const prompt = `say:${text}`;
    expect(new TextEncoder().encode(prompt).length).toBeLessThanOrEqual(100_000);
    expect(new TextEncoder().encode(prompt).length).toBeGreaterThan(99_990);
    const job = await client.jobs.createAndWait({ job_type: "cursor_task", prompt }, { pollInterval: 50 });
    expect(job.error ?? null).toBeNull();
    expect(job.status).toBe("completed");
    const said: string[] = [];
    for await (const event of client.jobs.events(job.id)) {
      if (event.type === "output" && typeof event.data.line === "string") said.push(event.data.line);
    }
    // Output lines are cut at 8192 characters; what arrived is the prompt's text, unmangled.
    expect(said).toHaveLength(1);
    expect(said[0]?.startsWith("€".repeat(8192))).toBe(true);
  });

  it("hands the agent a spec too long for one environment variable in KNIFY_JOB_SPEC_FILE", async () => {
    // 99,990 quotes: within the prompt's byte cap, but twice that as JSON, over Linux's 128 KiB per variable.
    const prompt = `spec;say:${'"'.repeat(99_990)}`;
    const job = await client.jobs.createAndWait({ job_type: "cursor_task", prompt }, { pollInterval: 50 });
    expect(job.error ?? null).toBeNull();
    expect(job.status).toBe("completed");
    const report = await specReport(job.id);
    expect(report).toMatch(/^spec env=unset env_matches=false file=\/run\/knify\/job-spec\.json file_matches=true$/);
  });

  it("sets both for a spec that fits: KNIFY_JOB_SPEC and the file hold the same spec", async () => {
    const job = await client.jobs.createAndWait({ job_type: "cursor_task", prompt: "spec" }, { pollInterval: 50 });
    expect(job.status).toBe("completed");
    expect(await specReport(job.id)).toMatch(
      /^spec env=\d+ env_matches=true file=\/run\/knify\/job-spec\.json file_matches=true$/,
    );
  });
});

describe("the spec file without a jail (KNIFY_SANDBOX_ISOLATION=none)", () => {
  let unjailed: TestServer;
  beforeAll(async () => {
    unjailed = await startTestServer({
      env: {
        KNIFY_RUNNER: "command",
        KNIFY_AGENT_COMMAND: `exec '${process.execPath}' '${AGENT}' "$1"`,
        KNIFY_SANDBOX_ISOLATION: "none",
      },
    });
  });
  afterAll(() => unjailed.stop());

  it("is a private temporary file, removed when the turn ends", async () => {
    const own = new KnifyClient(unjailed.adminKey, { baseURL: unjailed.url, maxRetries: 0 });
    const prompt = `spec;say:${'"'.repeat(99_990)}`;
    const job = await own.jobs.createAndWait({ job_type: "cursor_task", prompt }, { pollInterval: 50 });
    expect(job.status).toBe("completed");
    const report = (await specReport(job.id, own)) ?? "";
    const file = /file=(\S+) file_matches=true$/.exec(report)?.[1];
    expect(report).toMatch(/^spec env=unset /);
    expect(file).toMatch(/knify-run-[^/]+\/job-spec\.json$/);
    expect(existsSync(file as string)).toBe(false);
  });
});

async function specReport(jobId: string, from = client): Promise<string | undefined> {
  for await (const event of from.jobs.events(jobId)) {
    if (event.type === "output" && typeof event.data.line === "string" && event.data.line.startsWith("spec ")) {
      return event.data.line;
    }
  }
  return undefined;
}
