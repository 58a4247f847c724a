import { KnifyClient } from "@knify/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 15, item 11: `spec.session_id` resumed any agent session whose id a caller knew or guessed,
// another tenant's included. A session may be named only when a job the key can see carries it.
let server: TestServer;
let tenantA: KnifyClient;
let tenantB: KnifyClient;
let operator: KnifyClient;

beforeAll(async () => {
  server = await startTestServer({ env: { KNIFY_SIMULATOR_DELAY_MS: "20" } });
  const client = async (workspaceId: string | null) =>
    new KnifyClient((await server.key({ workspaceId })).apiKey, { baseURL: server.url, maxRetries: 0 });
  tenantA = await client("ws_session_a");
  tenantB = await client("ws_session_b");
  operator = await client(null);
});
afterAll(() => server.stop());

async function sessionOf(client: KnifyClient): Promise<string> {
  const job = await client.jobs.createAndWait({ job_type: "cursor_task", prompt: "start a session" });
  expect(job.cursor_session_id).toEqual(expect.any(String));
  return job.cursor_session_id as string;
}

describe("POST /jobs with spec.session_id", () => {
  it("refuses another tenant's session with the same 404 as an unknown one", async () => {
    const session = await sessionOf(tenantA);
    const stolen = await tenantB.jobs
      .create({ job_type: "cursor_task", prompt: "resume theirs", session_id: session })
      .catch((error: unknown) => error);
    const unknown = await tenantB.jobs
      .create({ job_type: "cursor_task", prompt: "resume nothing", session_id: "ses_made_up" })
      .catch((error: unknown) => error);
    expect(stolen).toMatchObject({ status: 404, code: "not_found" });
    expect(unknown).toMatchObject({ status: 404, code: "not_found" });
    const detail = (error: unknown) => String((error as { problem?: { detail?: string } }).problem?.detail);
    expect(detail(stolen).replace(session, "X")).toBe(detail(unknown).replace("ses_made_up", "X"));
  });

  it("resumes a session a job of the key's own workspace carries", async () => {
    const session = await sessionOf(tenantA);
    const resumed = await tenantA.jobs.createAndWait({
      job_type: "cursor_task",
      prompt: "resume mine",
      session_id: session,
    });
    expect(resumed.cursor_session_id).toBe(session);
  });

  it("lets a key without a workspace resume any session it can see", async () => {
    const session = await sessionOf(tenantB);
    const job = await operator.jobs.create({ job_type: "cursor_task", prompt: "resume", session_id: session });
    expect(job.job_id).toMatch(/^job_/);
  });
});
