import { request } from "node:http";
import { AuthenticationError, KnifyClient } from "@knify/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../server/src/clock.js";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// #15 item 4: an open event stream ends with its key (revoked, expired, grace period over), and one key
// holds a bounded number of streams. Real server, real HTTP; the keep-alive interval is short so the
// checks run often, and every wait is for something the stream sends, bounded generously.

const clock = new ManualClock(Date.now());
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    clock,
    env: {
      KNIFY_SSE_KEEPALIVE_MS: "50",
      KNIFY_MAX_STREAMS_PER_KEY: "2",
      // A turn that does not end during the test: the stream would otherwise stay open for it.
      KNIFY_SIMULATOR_DELAY_MS: "600000",
      KNIFY_RATE_LIMIT_LIVE: "100000",
    },
  });
});
afterAll(() => server.stop());

/** A live SSE response: everything received so far, waits on it, and whether the server ended it. */
interface Stream {
  status: number;
  text: () => string;
  /** Resolves once the received text matches, or rejects after `ms`. */
  until(pattern: RegExp, ms?: number): Promise<void>;
  ended: Promise<void>;
  close(): void;
}

function openStream(jobId: string, apiKey: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/jobs/${jobId}/events`, {
      agent: false,
      headers: { Authorization: `Bearer ${apiKey}`, Accept: "text/event-stream" },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      const waiters = new Set<() => void>();
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
        for (const check of waiters) check();
      });
      const ended = new Promise<void>((done) => res.on("close", () => done()));
      resolve({
        status: res.statusCode ?? 0,
        text: () => text,
        until(pattern, ms = 15_000) {
          return new Promise((done, fail) => {
            const timer = setTimeout(() => fail(new Error(`no ${pattern} within ${ms} ms; got ${text}`)), ms);
            const check = () => {
              if (!pattern.test(text)) return;
              clearTimeout(timer);
              waiters.delete(check);
              done();
            };
            waiters.add(check);
            check();
          });
        },
        ended,
        close: () => req.destroy(),
      });
    });
    req.end();
  });
}

async function within(promise: Promise<void>, what: string, ms = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} still open after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The problem of the stream's final `event: error`. */
function finalProblem(text: string): { code: string; status: number; detail: string; request_id: string } {
  const match = /event: error\ndata: (.*)\n\n$/.exec(text);
  if (!match?.[1]) throw new Error(`the stream did not end with an error event: ${text.slice(-300)}`);
  return JSON.parse(match[1]);
}

async function runningJob(apiKey: string): Promise<string> {
  const created = await call(server.url, "POST", "/jobs", {
    key: apiKey,
    body: { spec: { job_type: "cursor_task", prompt: "Stream me" } },
  });
  expect(created.status).toBe(200);
  return created.body.job_id;
}

describe("GET /jobs/{id}/events (stream) after the key's access ends", () => {
  it("ends within a keep-alive interval of a revocation, with a final unauthorized problem", async () => {
    const { id, apiKey } = await server.key({ name: "revoked while streaming" });
    const stream = await openStream(await runningJob(apiKey), apiKey);
    expect(stream.status).toBe(200);
    await stream.until(/: keep-alive/);

    expect((await call(server.url, "DELETE", `/keys/${id}`, { key: server.adminKey })).status).toBe(200);
    await within(stream.ended, "a revoked key's stream");
    const problem = finalProblem(stream.text());
    expect(problem.code).toBe("unauthorized");
    expect(problem.status).toBe(401);
    expect(problem.detail).toContain("revoked");
    expect(problem.request_id).toMatch(/^req_/);
  });

  it("ends when the key expires", async () => {
    const { apiKey } = await server.key({ name: "expiring", expiresAt: clock.now() + 60_000 });
    const stream = await openStream(await runningJob(apiKey), apiKey);
    await stream.until(/: keep-alive/);
    clock.advance(61_000);
    await within(stream.ended, "an expired key's stream");
    expect(finalProblem(stream.text()).code).toBe("unauthorized");
  });

  it("outlives a rotation during the old secret's grace period, and ends with it", async () => {
    const { id, apiKey } = await server.key({ name: "rotated" });
    const stream = await openStream(await runningJob(apiKey), apiKey);
    await stream.until(/: keep-alive/);
    const rotated = await call(server.url, "POST", `/keys/${id}/rotate`, {
      key: server.adminKey,
      body: { grace_period_seconds: 60 },
    });
    expect(rotated.status).toBe(200);

    // Still in grace: more keep-alives arrive and no error.
    const seen = stream.text().length;
    await stream.until(new RegExp(`^[\\s\\S]{${seen}}[\\s\\S]*: keep-alive`));
    expect(stream.text()).not.toContain("event: error");

    clock.advance(61_000);
    await within(stream.ended, "a stream on a secret past its grace period");
    expect(finalProblem(stream.text()).code).toBe("unauthorized");

    // The new secret streams on.
    const fresh = await openStream(await runningJob(rotated.body.api_key), rotated.body.api_key);
    expect(fresh.status).toBe(200);
    fresh.close();
  });

  it("makes the SDK's stream throw AuthenticationError instead of resuming", async () => {
    const { id, apiKey } = await server.key({ name: "sdk stream" });
    const client = new KnifyClient(apiKey, { baseURL: server.url, maxRetries: 0 });
    const jobId = await runningJob(apiKey);
    const iterator = client.jobs.streamEvents(jobId)[Symbol.asyncIterator]();
    // The first event (pending) proves the stream is open before the key goes.
    expect((await iterator.next()).value?.type).toBe("status");
    expect((await call(server.url, "DELETE", `/keys/${id}`, { key: server.adminKey })).status).toBe(200);
    // Events of the turn may still come first; then the stream must end in the typed error.
    const drained = (async () => {
      for (;;) if ((await iterator.next()).done) throw new Error("the stream ended without an error");
    })();
    await within(
      drained.then(
        () => undefined,
        (e: unknown) => {
          expect(e).toBeInstanceOf(AuthenticationError);
          expect((e as AuthenticationError).code).toBe("unauthorized");
        },
      ),
      "the SDK's stream",
    );
  });
});

describe("KNIFY_MAX_STREAMS_PER_KEY", () => {
  it("refuses a key's stream beyond the cap with 429 too_many_streams, and frees the slot on close", async () => {
    const { apiKey } = await server.key({ name: "many streams" });
    const other = await server.key({ name: "another key" });
    const jobId = await runningJob(apiKey);
    const first = await openStream(jobId, apiKey);
    const second = await openStream(jobId, apiKey);
    expect([first.status, second.status]).toEqual([200, 200]);

    const refused = await call(server.url, "GET", `/jobs/${jobId}/events`, {
      key: apiKey,
      headers: { Accept: "text/event-stream" },
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.body.code).toBe("too_many_streams");
    expect(refused.body.detail).toContain("2 event streams");

    // Another key is not affected, and paging (no stream) still works for this one.
    const theirs = await openStream(jobId, other.apiKey);
    expect(theirs.status).toBe(200);
    theirs.close();
    expect((await call(server.url, "GET", `/jobs/${jobId}/events`, { key: apiKey })).status).toBe(200);

    // Once a stream closes its slot is free again (the server notices the close asynchronously).
    first.close();
    await first.ended;
    let again: Stream | undefined;
    for (let attempt = 0; attempt < 200 && again?.status !== 200; attempt++) {
      again?.close();
      again = await openStream(jobId, apiKey);
      if (again.status !== 200) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(again?.status).toBe(200);
    again?.close();
    second.close();
  });
});
