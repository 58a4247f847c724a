import { APIConnectionError, APITimeoutError, APIUserAbortError, KnifyClient } from "@knify/sdk";
import { describe, expect, it } from "vitest";
import { fakeTime, job, json, problem, scriptedFetch, TEST_KEY, testOptions } from "../sdk/support/scripted-fetch.js";

// Issue 17, from the mutation run of sdk/src/core/transport.ts: what a failed attempt reports (with the API
// key redacted from a connection error's cause), and what the debug log says about each attempt.

const failure = async (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error as Error & { cause?: unknown },
  );

describe("a failed attempt", () => {
  it("reports a connection error with its cause's code, the API key redacted", async () => {
    const cause = Object.assign(new Error(`connect ECONNREFUSED for ${TEST_KEY}`), { code: "ECONNREFUSED" });
    const thrown = new TypeError("fetch failed", { cause });
    const client = new KnifyClient(testOptions(scriptedFetch(thrown).fetch, { maxRetries: 0 }));
    const error = await failure(client.jobs.get("job_1"));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.message).toBe("Could not reach https://api.test (fetch failed: ECONNREFUSED).");
    expect(error.cause).toBe(thrown);
  });

  it("redacts the API key wherever a cause's text carries it", async () => {
    const thrown = new TypeError("fetch failed", { cause: new Error(`proxy refused Bearer ${TEST_KEY}`) });
    const client = new KnifyClient(testOptions(scriptedFetch(thrown).fetch, { maxRetries: 0 }));
    const error = await failure(client.jobs.get("job_1"));
    expect(error.message).toBe("Could not reach https://api.test (fetch failed: proxy refused Bearer [redacted]).");
    expect(error.message).not.toContain(TEST_KEY);
    const plain = new KnifyClient(
      testOptions(scriptedFetch(new Error(`no route ${TEST_KEY}`)).fetch, { maxRetries: 0 }),
    );
    expect((await failure(plain.jobs.get("job_1"))).message).toBe(
      "Could not reach https://api.test (no route [redacted]).",
    );
    const odd = new KnifyClient(
      testOptions(
        async () => {
          throw `a string ${TEST_KEY}`;
        },
        { maxRetries: 0 },
      ),
    );
    expect((await failure(odd.jobs.get("job_1"))).message).toBe(
      "Could not reach https://api.test (a string [redacted]).",
    );
  });

  it("names the request and the timeout when an attempt times out", async () => {
    const hang = scriptedFetch(
      (_, signal) =>
        new Promise<Response>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
    );
    const client = new KnifyClient(testOptions(hang.fetch, { maxRetries: 0, timeout: 20 }));
    const error = await failure(client.jobs.get("job_1"));
    expect(error).toBeInstanceOf(APITimeoutError);
    expect(error.message).toBe(
      "GET https://api.test/jobs/job_1 timed out after 20 ms; raise the timeout option if the server is slow.",
    );
    expect(error.cause).toBeDefined();
  });

  it("says the call's deadline, not the timeout, ended an attempt cut short by it", async () => {
    const hang = scriptedFetch(
      (_, signal) =>
        new Promise<Response>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
    );
    const client = new KnifyClient(testOptions(hang.fetch, { maxRetries: 0, timeout: 60_000, deadline: 20 }));
    const error = await failure(client.jobs.get("job_1"));
    expect(error).toBeInstanceOf(APITimeoutError);
    expect(error.message).toBe(
      "GET https://api.test/jobs/job_1 passed the call's deadline (20 ms were left for this attempt).",
    );
  });

  it("gives the caller's abort reason as the cause, before and during an attempt", async () => {
    const before = new AbortController();
    before.abort(new Error("user left"));
    const idle = new KnifyClient(testOptions(scriptedFetch().fetch));
    const early = await failure(idle.jobs.get("job_1", { signal: before.signal }));
    expect(early).toBeInstanceOf(APIUserAbortError);
    expect(early.cause).toBe(before.signal.reason);

    const during = new AbortController();
    const hang = scriptedFetch((_, signal) => {
      during.abort(new Error("user cancelled"));
      return new Promise<Response>((_, reject) => {
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener("abort", () => reject(signal.reason));
      });
    });
    // No retries: the abort must be recognised in the attempt itself, not at the next one.
    const client = new KnifyClient(testOptions(hang.fetch, { maxRetries: 0 }));
    const late = await failure(client.jobs.get("job_1", { signal: during.signal }));
    expect(late).toBeInstanceOf(APIUserAbortError);
    expect(late.cause).toBe(during.signal.reason);
    expect(hang.seen).toHaveLength(1);
  });
});

describe("retries at their limits", () => {
  const hang = () =>
    scriptedFetch(
      (_, signal) =>
        new Promise<Response>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
    );

  it("calls it a timeout, not the deadline, when the deadline leaves exactly the timeout", async () => {
    const client = new KnifyClient(testOptions(hang().fetch, { maxRetries: 0, timeout: 20, deadline: 20 }));
    const error = await failure(client.jobs.get("job_1"));
    expect(error.message).toBe(
      "GET https://api.test/jobs/job_1 timed out after 20 ms; raise the timeout option if the server is slow.",
    );
  });

  it("waits a Retry-After of exactly 60 s, and gives up on a longer one without a deadline", async () => {
    const time = fakeTime();
    const exact = scriptedFetch(
      problem(503, "service_unavailable", "busy", {}, { "retry-after": "60" }),
      json(job("running")),
    );
    const client = new KnifyClient(testOptions(exact.fetch, { clock: time.clock, sleep: time.sleep }));
    await client.jobs.get("job_1");
    expect(time.sleeps).toEqual([60_000]);
    const longer = scriptedFetch(problem(503, "service_unavailable", "busy", {}, { "retry-after": "61" }));
    const impatient = new KnifyClient(testOptions(longer.fetch));
    expect(await failure(impatient.jobs.get("job_1"))).toMatchObject({ status: 503 });
    expect(longer.seen).toHaveLength(1);
  });

  it("retries when the wait ends exactly at the deadline", async () => {
    const time = fakeTime();
    const script = scriptedFetch(
      problem(503, "service_unavailable", "busy", {}, { "retry-after": "1" }),
      json(job("running")),
    );
    const client = new KnifyClient(
      testOptions(script.fetch, { clock: time.clock, sleep: time.sleep, deadline: 1000, timeout: 60_000 }),
    );
    await client.jobs.get("job_1").catch(() => undefined);
    expect(time.sleeps).toEqual([1000]);
    expect(script.seen).toHaveLength(2);
  });

  it("warns when it gives up only after a retry or on a wait it will not make", async () => {
    const lines: string[] = [];
    const logger = {
      warn: (line: string) => lines.push(line),
      info() {},
      debug() {},
      error() {},
    } as unknown as Console;
    const once = scriptedFetch(problem(503, "service_unavailable", "down"));
    await failure(
      new KnifyClient(testOptions(once.fetch, { logger, logLevel: "warn", maxRetries: 0 })).jobs.get("job_1"),
    );
    expect(lines).toEqual([]);
    const tooLong = scriptedFetch(problem(503, "service_unavailable", "down", {}, { "retry-after": "3600" }));
    await failure(new KnifyClient(testOptions(tooLong.fetch, { logger, logLevel: "warn" })).jobs.get("job_1"));
    expect(lines).toEqual(["[knify] GET https://api.test/jobs/job_1 failed after 1 attempt(s): status 503"]);
  });

  it("stops with the caller's abort while waiting to retry", async () => {
    const controller = new AbortController();
    const script = scriptedFetch(() => {
      controller.abort(new Error("user left during backoff"));
      return problem(503, "service_unavailable", "down");
    });
    const client = new KnifyClient(testOptions(script.fetch));
    const error = await failure(client.jobs.get("job_1", { signal: controller.signal }));
    expect(error).toBeInstanceOf(APIUserAbortError);
    expect(error.cause).toBe(controller.signal.reason);
    expect(script.seen).toHaveLength(1);
  });
});

describe("the debug log", () => {
  function capture() {
    const lines: { level: string; message: string; data: Record<string, unknown> }[] = [];
    const logger = Object.fromEntries(
      ["debug", "info", "warn", "error"].map((level) => [
        level,
        (message: unknown, data: unknown) =>
          lines.push({
            level,
            message: String(message).replace("[knify] ", ""),
            data: (data ?? {}) as Record<string, unknown>,
          }),
      ]),
    ) as unknown as Console;
    return { lines, logger };
  }

  it("marks retries, times each response, and logs JSON bodies but not other ones", async () => {
    const { fetch } = scriptedFetch(
      problem(503, "service_unavailable", "down"),
      json(job("running")),
      new Response("plain text", { status: 200, headers: { "content-type": "text/plain" } }),
    );
    const { lines, logger } = capture();
    const client = new KnifyClient(testOptions(fetch, { logger, logLevel: "debug" }));
    await client.jobs.get("job_1");
    await client.request("get", "/text", {}).catch(() => undefined);
    const debug = lines.filter((line) => line.level === "debug");
    const requests = debug.filter((line) => line.message.startsWith("→"));
    expect(requests.map((line) => line.message)).toEqual([
      "→ GET https://api.test/jobs/job_1",
      "→ GET https://api.test/jobs/job_1 (retry 1)",
      "→ GET https://api.test/text",
    ]);
    expect(requests[0]?.data).not.toHaveProperty("body");
    const responses = debug.filter((line) => line.message.startsWith("←"));
    expect(responses.map((line) => line.message)).toEqual([
      "← 503 GET https://api.test/jobs/job_1 in 0 ms",
      "← 200 GET https://api.test/jobs/job_1 in 0 ms",
      "← 200 GET https://api.test/text in 0 ms",
    ]);
    expect(responses[0]?.data.requestId).toBe("req_test123");
    expect(responses[1]?.data).toHaveProperty("requestId", undefined);
    expect(responses[1]?.data.body).toMatchObject({ id: "job_1", status: "running" });
    expect(responses[2]?.data).not.toHaveProperty("body");
  });

  it("logs a JSON request body, and only the size of a binary one", async () => {
    const { fetch } = scriptedFetch(json({ ok: true }), json({ ok: true }));
    const { lines, logger } = capture();
    const client = new KnifyClient(testOptions(fetch, { logger, logLevel: "debug" }));
    await client.request("post", "/thing", { body: { a: 1 } });
    await client.request("post", "/bytes", {
      body: new Uint8Array([1, 2, 3]),
      headers: { "content-type": "application/octet-stream" },
    } as never);
    const sent = lines.filter((line) => line.message.startsWith("→ POST"));
    expect(sent[0]?.data.body).toEqual({ a: 1 });
    expect(sent[1]?.data.body).toMatch(/^<\d+ bytes>$/);
  });
});
