import { createKnifyMock } from "@knify/sdk/testing";
import fc from "fast-check";
import { setupServer } from "msw/node";
import { afterAll, beforeAll, expect, it, onTestFinished } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 9: the same seeded random sequence of operations goes to the mock and to the real server, which
// must answer with equal statuses, problem codes and response shapes. A fixed seed keeps it reproducible;
// a failure prints the step and both answers.
const SEED = 20261203;
const RUNS = 8;
const STEPS = 30;

/** One step: what to call, as whom, on which earlier object, with which variant of the input. */
interface Step {
  kind: (typeof KINDS)[number];
  caller: number;
  target: number;
  variant: number;
}

const KINDS = [
  "createKey",
  "getKey",
  "updateKey",
  "revokeKey",
  "rotateKey",
  "getKeyUsage",
  "listKeys",
  "verifyKey",
  "createJob",
  "getJob",
  "listJobs",
  "listJobEvents",
  "cleanupJob",
  "listJobChanges",
  "createWebhookEndpoint",
  "getWebhookEndpoint",
  "updateWebhookEndpoint",
  "deleteWebhookEndpoint",
  "listWebhookEndpoints",
  "testWebhookEndpoint",
] as const;

const KEY_BODIES: object[] = [
  { name: "plain" },
  { name: "reader", permissions: ["jobs:read"] },
  { name: "scoped", workspace_id: "ws_team_a" },
  { name: "scoped admin", workspace_id: "ws_team_a", permissions: ["admin:all"] },
  { name: "other tenant", workspace_id: "ws_team_b", permissions: ["jobs:create", "jobs:read"] },
  { nam: "typo" },
  { name: "" },
  { name: "limited", rate_limit: 5 },
  { name: "preset", workspace_id: "ws_preset_e2e_tests" },
  { name: "expired", expires_at: "2001-01-01T00:00:00Z" },
  { name: "bad permission", permissions: ["jobs:rea"] },
];
const JOB_SPECS: object[] = [
  { job_type: "cursor_task", prompt: "Hello" },
  { job_type: "cursor_task", prompt: "fail [simulate:fail]" },
  { job_type: "claude_task", prompt: "x", model: "gpt-2" },
  { job_type: "cursor_task" },
  { job_type: "cursor_task", prompt: "x", workspace_path: "/workspaces/nowhere" },
  { job_type: "cursor_task", prompt: "x", session_id: "ses_unknown" },
  { job_type: "gemini_task", prompt: "x", metadata: { a: 1 } },
];
const ENDPOINT_BODIES: object[] = [
  { url: "http://127.0.0.1:9/hook" },
  { url: "http://127.0.0.1:9/other", event_types: ["job.completed"] },
  { url: "ftp://127.0.0.1/hook" },
  { url: "not a url" },
  { url: "http://127.0.0.1:9/hook", event_types: ["job.exploded"] },
];

/** What a target answered: status, problem code, and the JSON body's shape. */
interface Answer {
  status: number;
  code: string | null;
  shape: unknown;
}

/** The structure of a JSON value: object keys and value types, without the values themselves. */
function shapeOf(value: unknown): unknown {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.map(shapeOf);
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, shapeOf(v)]),
    );
  }
  return typeof value;
}

/**
 * Shapes agree when equal, with `null` standing for any type (a nullable field set on one side only); lists
 * hold as many items, each of the same shape as its counterpart (both targets list newest first).
 */
function sameShape(a: unknown, b: unknown): boolean {
  if (a === "null" || b === "null") return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameShape(item, b[i]));
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return a === b;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length || keysA.some((k) => !(k in b))) return false;
  return keysA.every((k) => sameShape((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** One target's view of the sequence: its base URL and the ids and secrets its earlier answers gave. */
class Run {
  readonly keys: { id: string; secret: string }[];
  readonly jobs: string[] = [];
  readonly endpoints: string[] = [];

  constructor(
    readonly baseURL: string,
    adminKey: string,
    adminId: string,
  ) {
    this.keys = [{ id: adminId, secret: adminKey }];
  }

  /**
   * Waits for a new job's turn to end, so both targets answer later steps about a finished job: the server
   * runs it on a timer, the mock on the next request, and neither pace is the behaviour under test.
   */
  private async settle(jobId: string, secret: string): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const res = await fetch(`${this.baseURL}/jobs/${jobId}`, { headers: { Authorization: `Bearer ${secret}` } });
      const { status } = (await res.json()) as { status?: string };
      if (status === "completed" || status === "failed" || !res.ok) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private pick<T>(items: T[], index: number): T | undefined {
    return items.length === 0 ? undefined : items[index % items.length];
  }

  async step(step: Step): Promise<Answer> {
    const caller = this.pick(this.keys, step.caller)?.secret ?? "";
    const key = step.target % 5 === 4 ? "key_UNKNOWN" : (this.pick(this.keys, step.target)?.id ?? "key_NONE");
    const job = step.target % 5 === 4 ? "job_UNKNOWN" : (this.pick(this.jobs, step.target) ?? "job_NONE");
    const endpoint = step.target % 5 === 4 ? "we_UNKNOWN" : (this.pick(this.endpoints, step.target) ?? "we_NONE");
    const v = step.variant;
    const limit = 1 + (v % 3);
    const request = ((): [string, string, unknown?] => {
      switch (step.kind) {
        case "createKey":
          return ["POST", "/keys", KEY_BODIES[v % KEY_BODIES.length]];
        case "getKey":
          return ["GET", `/keys/${key}`];
        case "updateKey":
          return ["PATCH", `/keys/${key}`, v % 2 === 0 ? { name: "renamed" } : { permissions: ["admin:all"] }];
        case "revokeKey":
          return ["DELETE", `/keys/${key}`];
        case "rotateKey":
          return ["POST", `/keys/${key}/rotate`, { grace_period_seconds: 60 }];
        case "getKeyUsage":
          return ["GET", `/keys/${key}/usage`];
        case "listKeys":
          return ["GET", `/keys?limit=${limit}`];
        case "verifyKey":
          return ["GET", "/keys/verify"];
        case "createJob":
          return ["POST", "/jobs", { spec: JOB_SPECS[v % JOB_SPECS.length] }];
        case "getJob":
          return ["GET", `/jobs/${job}`];
        case "listJobs":
          return ["GET", `/jobs?limit=${limit}`];
        case "listJobEvents":
          return ["GET", `/jobs/${job}/events?limit=${limit}`];
        case "cleanupJob":
          return ["POST", `/jobs/${job}/cleanup`];
        case "listJobChanges":
          return ["GET", `/jobs/${job}/changes`];
        case "createWebhookEndpoint":
          return ["POST", "/webhook-endpoints", ENDPOINT_BODIES[v % ENDPOINT_BODIES.length]];
        case "getWebhookEndpoint":
          return ["GET", `/webhook-endpoints/${endpoint}`];
        case "updateWebhookEndpoint":
          return ["PATCH", `/webhook-endpoints/${endpoint}`, { description: "changed", enabled: v % 2 === 0 }];
        case "deleteWebhookEndpoint":
          return ["DELETE", `/webhook-endpoints/${endpoint}`];
        case "listWebhookEndpoints":
          return ["GET", `/webhook-endpoints?limit=${limit}`];
        case "testWebhookEndpoint":
          return ["POST", `/webhook-endpoints/${endpoint}/test`];
      }
    })();
    const [method, path, body] = request;
    const headers: Record<string, string> = { Authorization: `Bearer ${caller}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(`${this.baseURL}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const json: unknown = text && /json/.test(res.headers.get("content-type") ?? "") ? JSON.parse(text) : null;
    const record = json as { key_id?: string; api_key?: string; job_id?: string; id?: string; code?: string } | null;
    if (res.status === 200 && record) {
      if (step.kind === "createKey" && record.key_id && record.api_key)
        this.keys.push({ id: record.key_id, secret: record.api_key });
      if (step.kind === "createJob" && record.job_id) {
        this.jobs.push(record.job_id);
        await this.settle(record.job_id, caller);
      }
      if (step.kind === "createWebhookEndpoint" && record.id) this.endpoints.push(record.id);
    }
    const problem = (res.headers.get("content-type") ?? "").startsWith("application/problem+json");
    return { status: res.status, code: problem ? (record?.code ?? null) : null, shape: problem ? null : shapeOf(json) };
  }
}

const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom(...KINDS),
  caller: fc.nat({ max: 20 }),
  target: fc.nat({ max: 20 }),
  variant: fc.nat({ max: 50 }),
});

const msw = setupServer();

beforeAll(() => {
  // Requests to the real server's loopback URL match no mock handler and go through.
  msw.listen({ onUnhandledRequest: "bypass" });
});
afterAll(() => msw.close());

/** A fresh server per sequence, so both targets start from the same state: one admin key, nothing else. */
async function freshServer(): Promise<TestServer> {
  // As the contract server target: private webhook targets allowed, quick simulated turns.
  return startTestServer({
    env: { KNIFY_WEBHOOK_ALLOW_PRIVATE: "1", KNIFY_SIMULATOR_DELAY_MS: "20", KNIFY_CONTINUE_WAIT_MS: "0" },
  });
}

it("answers a seeded random sequence of operations alike on the mock and on the server", async () => {
  const sequences = fc.sample(fc.array(step, { minLength: STEPS, maxLength: STEPS }), { seed: SEED, numRuns: RUNS });
  for (const [run, steps] of sequences.entries()) {
    const mock = createKnifyMock({ baseURL: `https://differential-${run}.knify.test`, allowPrivateWebhookUrls: true });
    msw.resetHandlers(...mock.handlers);
    const server = await freshServer();
    const serverAdminId = (await server.store.keys.list({ limit: 1 }))[0]?.id ?? "";
    const verified = await fetch(`https://differential-${run}.knify.test/keys/verify`, {
      headers: { Authorization: `Bearer ${mock.adminKey}` },
    });
    const mockAdminId = ((await verified.json()) as { key_id?: string }).key_id ?? "";
    const onMock = new Run(`https://differential-${run}.knify.test`, mock.adminKey, mockAdminId);
    const onServer = new Run(server.url, server.adminKey, serverAdminId);
    onTestFinished(() => server.stop());
    for (const [index, s] of steps.entries()) {
      const [fromMock, fromServer] = [await onMock.step(s), await onServer.step(s)];
      const where = `run ${run}, step ${index}: ${JSON.stringify(s)}\n mock:   ${JSON.stringify(fromMock)}\n server: ${JSON.stringify(fromServer)}`;
      expect({ status: fromMock.status, code: fromMock.code }, where).toEqual({
        status: fromServer.status,
        code: fromServer.code,
      });
      expect(sameShape(fromMock.shape, fromServer.shape), where).toBe(true);
    }
    expect(mock.violations).toEqual([]);
  }
}, 60_000);
