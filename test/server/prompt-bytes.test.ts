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
});
