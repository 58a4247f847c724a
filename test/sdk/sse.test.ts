import { APIUserAbortError, type JobEvent, KnifyClient, KnifyError } from "@knify/sdk";
import { describe, expect, it } from "vitest";
import { parseSSE } from "../../sdk/src/core/sse.js";
import { fakeTime, job, json, scriptedFetch, testOptions } from "./support/scripted-fetch.js";

const encoder = new TextEncoder();

/** A byte stream that delivers `chunks` one by one, then closes (or errors, to mimic a dropped connection). */
function stream(chunks: string[], end: "close" | Error = "close"): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[index++];
      if (chunk !== undefined) controller.enqueue(encoder.encode(chunk));
      else if (end === "close") controller.close();
      else controller.error(end);
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>, retries: number[] = []) {
  const events = [];
  for await (const event of parseSSE(body, { onRetry: (ms) => retries.push(ms) })) events.push(event);
  return events;
}

describe("parseSSE", () => {
  it("parses id, event and data fields and dispatches on a blank line", async () => {
    const events = await collect(stream(['id: 1\nevent: status\ndata: {"seq":1}\n\n']));
    expect(events).toEqual([{ id: "1", event: "status", data: '{"seq":1}' }]);
  });

  it("handles CRLF, CR and LF, even with a CRLF split across chunks", async () => {
    const events = await collect(stream(["data: a\r", "\n\r\n", "data: b\r\rdata: c\n\n"]));
    expect(events.map((e) => e.data)).toEqual(["a", "b", "c"]);
  });

  it("joins multi-line data, skips comments, and defaults the event name", async () => {
    const events = await collect(stream([": keep-alive\n", "data: line 1\ndata:line 2\n\n"]));
    expect(events).toEqual([{ id: undefined, event: "message", data: "line 1\nline 2" }]);
  });

  it("keeps the last id across events and reports retry, even without data", async () => {
    const retries: number[] = [];
    const events = await collect(
      stream(["id: 7\ndata: x\n\n", "retry: 3000\n\n", "retry: soon\ndata: y\n\n", "id\ndata: z\n\n"]),
      retries,
    );
    expect(events.map((e) => [e.id, e.data])).toEqual([
      ["7", "x"],
      ["7", "y"],
      ["", "z"],
    ]);
    expect(retries).toEqual([3000]);
  });

  it("does not dispatch a block without data, nor an unterminated last event", async () => {
    const events = await collect(stream(["event: ping\n\n", "data: done\n\n", "data: cut off"]));
    expect(events.map((e) => e.data)).toEqual(["done"]);
  });

  it("decodes multi-byte characters split across chunks", async () => {
    const bytes = encoder.encode("data: héllo ✓\n\n");
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 8));
        controller.enqueue(bytes.subarray(8));
        controller.close();
      },
    });
    expect((await collect(body)).map((e) => e.data)).toEqual(["héllo ✓"]);
  });

  it("cancels the body when the consumer stops early", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("data: 1\n\ndata: 2\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const _ of parseSSE(body)) break;
    expect(cancelled).toBe(true);
  });
});

const event = (seq: number, type: JobEvent["type"], data: Record<string, unknown> = {}) =>
  ({ seq, job_id: "job_1", type, created_at: "2025-11-17T10:00:00Z", data }) as JobEvent;
const sse = (...events: JobEvent[]) =>
  events.map((e) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
const eventStream = (body: ReadableStream<Uint8Array>) =>
  new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });

describe("jobs.events.stream", () => {
  it("follows the stream until a terminal status, asking for text/event-stream", async () => {
    const { fetch, seen } = scriptedFetch(
      eventStream(
        stream(
          sse(
            event(1, "status", { status: "running" }),
            event(2, "output", { line: "hi" }),
            event(3, "status", { status: "completed" }),
          ),
        ),
      ),
    );
    const client = new KnifyClient(testOptions(fetch));
    const seqs: number[] = [];
    for await (const e of client.jobs.events.stream("job_1")) seqs.push(e.seq);
    expect(seqs).toEqual([1, 2, 3]);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url.pathname).toBe("/jobs/job_1/events");
    expect(seen[0]?.headers.get("accept")).toBe("text/event-stream");
    expect(seen[0]?.headers.has("last-event-id")).toBe(false);
  });

  it("resumes a dropped connection with Last-Event-ID, without losing or repeating events", async () => {
    const { fetch, seen } = scriptedFetch(
      eventStream(
        stream(sse(event(1, "status", { status: "running" }), event(2, "output")), new TypeError("terminated")),
      ),
      // The server repeats seq 2 after the reconnect; the client must skip it.
      eventStream(stream(sse(event(2, "output"), event(3, "output"), event(4, "status", { status: "failed" })))),
    );
    const time = fakeTime();
    const client = new KnifyClient(testOptions(fetch, { clock: time.clock, sleep: time.sleep }));
    const seqs: number[] = [];
    for await (const e of client.jobs.streamEvents("job_1")) seqs.push(e.seq);
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect(seen).toHaveLength(2);
    expect(seen[1]?.headers.get("last-event-id")).toBe("2");
    expect(seen[1]?.url.searchParams.get("after")).toBe("2");
    // Progress was made, so the reconnect is immediate.
    expect(time.sleeps).toEqual([0]);
  });

  it("starts after a given seq", async () => {
    const { fetch, seen } = scriptedFetch(eventStream(stream(sse(event(6, "status", { status: "completed" })))));
    const client = new KnifyClient(testOptions(fetch));
    const seqs: number[] = [];
    for await (const e of client.jobs.events.stream("job_1", { after: 5 })) seqs.push(e.seq);
    expect(seqs).toEqual([6]);
    expect(seen[0]?.url.searchParams.get("after")).toBe("5");
    expect(seen[0]?.headers.get("last-event-id")).toBe("5");
  });

  it("a quiet close is checked against the job: an ended job ends the stream", async () => {
    const { fetch, seen } = scriptedFetch(eventStream(stream([": nothing new\n\n"])), json(job("completed")));
    const client = new KnifyClient(testOptions(fetch));
    const seqs: number[] = [];
    for await (const e of client.jobs.events.stream("job_1", { after: 9 })) seqs.push(e.seq);
    expect(seqs).toEqual([]);
    expect(seen.map((r) => r.url.pathname)).toEqual(["/jobs/job_1/events", "/jobs/job_1"]);
  });

  it("a quiet close of a running job reconnects after a backoff, or the server's retry:", async () => {
    const { fetch, seen } = scriptedFetch(
      eventStream(stream(["retry: 1500\n\n"])),
      json(job("running")),
      eventStream(stream(sse(event(1, "status", { status: "completed" })))),
    );
    const time = fakeTime();
    const client = new KnifyClient(testOptions(fetch, { clock: time.clock, sleep: time.sleep }));
    const seqs: number[] = [];
    for await (const e of client.jobs.events.stream("job_1")) seqs.push(e.seq);
    expect(seqs).toEqual([1]);
    expect(seen).toHaveLength(3);
    expect(time.sleeps).toEqual([1500]);
  });

  it("does not stop at a completed turn when more turns follow in the same stream", async () => {
    const { fetch } = scriptedFetch(
      eventStream(
        stream(
          sse(
            event(1, "status", { status: "completed" }),
            event(2, "turn", { turn: 2 }),
            event(3, "status", { status: "running" }),
            event(4, "status", { status: "completed" }),
          ),
        ),
      ),
    );
    const client = new KnifyClient(testOptions(fetch));
    const seqs: number[] = [];
    for await (const e of client.jobs.events.stream("job_1")) seqs.push(e.seq);
    expect(seqs).toEqual([1, 2, 3, 4]);
  });

  it("throws on data that is not a job event", async () => {
    const { fetch } = scriptedFetch(eventStream(stream(["data: not json\n\n"])));
    const client = new KnifyClient(testOptions(fetch));
    const iterate = async () => {
      for await (const _ of client.jobs.events.stream("job_1"));
    };
    await expect(iterate()).rejects.toThrow(KnifyError);
  });

  it("stops with APIUserAbortError when its signal aborts mid-stream", async () => {
    const controller = new AbortController();
    const { fetch } = scriptedFetch((_request, signal) => {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(encoder.encode(sse(event(1, "output"))[0]));
          signal?.addEventListener("abort", () => c.error(signal.reason));
        },
      });
      return eventStream(body);
    });
    const client = new KnifyClient(testOptions(fetch));
    const seqs: number[] = [];
    const iterate = async () => {
      for await (const e of client.jobs.events.stream("job_1", { signal: controller.signal })) {
        seqs.push(e.seq);
        controller.abort();
      }
    };
    await expect(iterate()).rejects.toBeInstanceOf(APIUserAbortError);
    expect(seqs).toEqual([1]);
  });
});
