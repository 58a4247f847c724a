// Issue 14, item 3: waiting for a job follows its event stream (no polling while the stream works, and a
// 200 ms job is seen done at once), falls back to polling when the stream cannot be used, and a turn's wait
// is never ended by another turn's events. Against the real server on loopback, with its simulator.
import { type JobEvent, JobFailedError, KnifyClient } from "@knify/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { KNIFY_SIMULATOR_DELAY_MS: "200" } });
});
afterAll(async () => {
  await server?.close();
});

/** A client whose requests are recorded ("GET /jobs/…", with `stream` for event streams). */
function recordingClient(options: { refuseStreams?: boolean } = {}) {
  const seen: string[] = [];
  const client = new KnifyClient(server.adminKey, {
    baseURL: server.url,
    maxRetries: 0,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const stream = request.headers.get("accept") === "text/event-stream";
      seen.push(`${request.method} ${new URL(request.url).pathname}${stream ? " stream" : ""}`);
      if (stream && options.refuseStreams) {
        return new Response("no streams through this proxy", {
          status: 502,
          headers: { "content-type": "text/plain" },
        });
      }
      return fetch(request);
    },
  });
  return { client, seen };
}

/** A job the simulator holds running until it is cancelled. */
const heldJob = (client: KnifyClient) =>
  client.jobs.create({ job_type: "cursor_task", prompt: "held", metadata: { simulate: "hold" } });

const polls = (seen: string[], jobId: string) => seen.filter((r) => r === `GET /jobs/${jobId}`).length;

describe("waiting for a job", () => {
  it("createAndWait follows the event stream: a 200 ms job resolves at once, without polling", async () => {
    const { client, seen } = recordingClient();
    const started = performance.now();
    const statuses: string[] = [];
    const job = await client.jobs.createAndWait(
      { job_type: "cursor_task", prompt: "quick" },
      { onStatus: (status) => statuses.push(status) },
    );
    const elapsed = performance.now() - started;
    expect(job.status).toBe("completed");
    expect(elapsed).toBeLessThan(1500);
    expect(statuses.at(-1)).toBe("completed");
    expect(seen.filter((r) => r.endsWith(" stream"))).toEqual([`GET /jobs/${job.id}/events stream`]);
    // One read before the stream, one per status event of the turn (running, completed): no timed polling.
    expect(polls(seen, job.id)).toBeLessThanOrEqual(3);
  });

  it("falls back to polling when the stream is refused, starting at 100 ms", async () => {
    const { client, seen } = recordingClient({ refuseStreams: true });
    const started = performance.now();
    const job = await client.jobs.createAndWait({ job_type: "cursor_task", prompt: "quick" });
    expect(job.status).toBe("completed");
    expect(performance.now() - started).toBeLessThan(1500);
    expect(seen).toContain(`GET /jobs/${job.id}/events stream`);
    expect(polls(seen, job.id)).toBeGreaterThanOrEqual(2);
  });

  it("rejects with JobFailedError when the turn fails, through the stream", async () => {
    const { client } = recordingClient();
    const error = await client.jobs
      .createAndWait({ job_type: "cursor_task", prompt: "[simulate:fail]" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).job.status).toBe("failed");
  });

  it("times out on a job that does not end, and stops its stream", async () => {
    const { client } = recordingClient();
    const { job_id } = await heldJob(client);
    const started = performance.now();
    const error = await client.jobs.waitFor(job_id, { timeout: 300 }).catch((e: unknown) => e);
    expect((error as Error).name).toBe("APITimeoutError");
    expect(performance.now() - started).toBeLessThan(3000);
    await client.jobs.cancel(job_id);
  });
});

describe("continueAndWait and streams from now", () => {
  it("waits for the turn it started, not the earlier one", async () => {
    const { client, seen } = recordingClient();
    const first = await client.jobs.createAndWait({ job_type: "cursor_task", prompt: "turn one" });
    expect(first.turns).toBe(1);
    seen.length = 0;
    const second = await client.jobs.continueAndWait(first.id, { prompt: "turn two" });
    expect(second).toMatchObject({ status: "completed", turns: 2 });
    // The stream replays turn one's "completed" first; taken for this turn's end, the job read then would be
    // still running and the wait would go on polling. One read after the continue, one at the end: no polls.
    expect(seen).toEqual([
      `POST /jobs/${first.id}/continue`,
      `GET /jobs/${first.id}`,
      `GET /jobs/${first.id}/events stream`,
      `GET /jobs/${first.id}`,
    ]);
  });

  it("a stream from now has only what happens after it opens", async () => {
    const { client } = recordingClient();
    const { job_id } = await heldJob(client);
    const before = await client.jobs.events(job_id, { limit: 100 });
    expect(before.length).toBeGreaterThan(0);
    const lastBefore = Math.max(...before.map((e) => e.seq));
    const fromNow: JobEvent[] = [];
    const following = (async () => {
      for await (const event of client.jobs.events.stream(job_id, { after: "now" })) fromNow.push(event);
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.jobs.cancel(job_id);
    await following;
    expect(fromNow.length).toBeGreaterThan(0);
    expect(fromNow.every((e) => e.seq > lastBefore)).toBe(true);
    expect(fromNow.at(-1)).toMatchObject({ type: "status", data: { status: "failed", error: { code: "cancelled" } } });
  });

  it("a stream of an ended job from its last event ends at once, empty", async () => {
    const { client } = recordingClient();
    const job = await client.jobs.createAndWait({ job_type: "cursor_task", prompt: "done" });
    const events: JobEvent[] = [];
    for await (const event of client.jobs.events.stream(job.id, { after: "now" })) events.push(event);
    expect(events).toEqual([]);
  });

  it("a continue sent while the first turn still runs resolves only when its own turn ends", async () => {
    const { client } = recordingClient();
    const { job_id } = await client.jobs.create({ job_type: "cursor_task", prompt: "first" });
    const statuses: string[] = [];
    const second = await client.jobs.continueAndWait(
      job_id,
      { prompt: "second" },
      { onStatus: (status) => statuses.push(status) },
    );
    expect(second).toMatchObject({ status: "completed", turns: 2 });
    const events = await client.jobs.events(job_id, { limit: 100 });
    const secondTurn = events.find((e) => e.type === "turn" && (e.data as { turn: number }).turn === 2);
    const lastCompleted = events.filter(
      (e) => e.type === "status" && (e.data as { status: string }).status === "completed",
    );
    expect(lastCompleted).toHaveLength(2);
    expect(lastCompleted.at(-1)?.seq).toBeGreaterThan(secondTurn?.seq ?? Number.POSITIVE_INFINITY);
  });
});
