import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { KnifyClient } from "@knify/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

// Knify's Advanced Usage page, "Multi-Turn Workflows", run as written (advanced-usage.sh is the page's script,
// verbatim): only the base URL is ours. Its `sleep 60` ("Wait for completion...") is shimmed to return at
// once, because the server itself holds a continue until the running turn ends (KNIFY_CONTINUE_WAIT_MS):
// that is also what lets steps 2, 3 and 4 go back to back, as the page sends them.
const exec = promisify(execFile);
const SCRIPT = readFileSync(join(import.meta.dirname, "advanced-usage.sh"), "utf8");
const PROMPTS = [
  "Analyze this codebase and identify bottlenecks",
  "Based on your analysis, implement optimizations",
  "Run tests to verify the optimizations",
  "Create a markdown report summarizing all changes",
];

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { KNIFY_SIMULATOR_DELAY_MS: "100" } });
});
afterAll(() => server.stop());

describe("the Advanced Usage page's multi-turn chain", () => {
  it("analyses, fixes, tests and reports on one job_id, each turn after the previous one", async () => {
    const key = await server.key({ name: "Advanced usage" });
    const shims = mkdtempSync(join(tmpdir(), "knify-shims-"));
    writeFileSync(join(shims, "sleep"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(shims, "sleep"), 0o755);

    const { stdout } = await exec("bash", ["-e", "-c", SCRIPT.replaceAll("https://api.knify.io", server.url)], {
      env: { ...process.env, KNIFY_API_KEY: key.apiKey, PATH: `${shims}:${process.env.PATH}` },
    });
    // Steps 2–4 print their responses (step 1's goes to jq): three handles of the same job.
    const handles = stdout
      .replaceAll("}{", "}\n{")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { job_id: string; status: string });
    expect(handles).toHaveLength(3);
    const jobId = handles[0]?.job_id ?? "";
    expect(jobId).toMatch(/^job_/);
    expect(handles).toEqual([1, 2, 3].map(() => ({ job_id: jobId, status: "pending" })));

    const client = new KnifyClient(key.apiKey, { baseURL: server.url, maxRetries: 0, logLevel: "off" });
    const job = await client.jobs.waitFor(jobId, { pollInterval: 20, timeout: 20_000 });
    expect(job).toMatchObject({ status: "completed", turns: 4, spec: { prompt: PROMPTS[3] } });
    const turns = [];
    for await (const event of client.jobs.events(jobId)) if (event.type === "turn") turns.push(event.data.prompt);
    expect(turns).toEqual(PROMPTS);
  });
});
