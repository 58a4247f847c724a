import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  InternalServerError,
  KnifyClient,
  NotFoundError,
  RateLimitError,
} from "@knify/sdk";
import { describe, expect, it } from "vitest";
import { fakeTime, json, problem, scriptedFetch, TEST_KEY, testOptions } from "./support/scripted-fetch.js";

const handle = { job_id: "job_1", status: "pending" };
const spec = { job_type: "cursor_task", prompt: "Hello" } as const;

function client(
  fetch: ReturnType<typeof scriptedFetch>["fetch"],
  extra: ConstructorParameters<typeof KnifyClient>[1] = {},
) {
  const time = fakeTime();
  const knify = new KnifyClient(testOptions(fetch, { clock: time.clock, sleep: time.sleep, ...extra }));
  return { knify, ...time };
}

/** A fetch step that never answers and rejects only when its signal aborts, like a hung server. */
const hang = (_request: unknown, signal: AbortSignal | undefined) =>
  new Promise<Response>((_resolve, reject) => {
    signal?.addEventListener("abort", () => reject(new DOMException("This operation was aborted", "AbortError")));
  });

describe("retries", () => {
  it("retries a 503 with exponential backoff, then returns the data", async () => {
    const { fetch, seen } = scriptedFetch(
      problem(503, "service_unavailable", "down"),
      problem(503, "service_unavailable", "down"),
      json(handle),
    );
    const { knify, sleeps } = client(fetch);
    await expect(knify.jobs.create(spec)).resolves.toEqual(handle);
    expect(seen).toHaveLength(3);
    expect(sleeps).toEqual([500, 1000]);
    expect(seen.map((request) => request.headers.get("x-knify-retry-count"))).toEqual([null, "1", "2"]);
  });

  it("sends the same body on every attempt", async () => {
    const { fetch, seen } = scriptedFetch(new TypeError("fetch failed"), json(handle));
    const { knify } = client(fetch);
    await knify.jobs.create(spec);
    expect(seen.map((request) => JSON.parse(request.body))).toEqual([{ spec }, { spec }]);
  });

  it("doubles the wait up to 8 s and takes up to 25 % off as jitter", async () => {
    const failures = (n: number) => Array.from({ length: n }, () => problem(500, "internal_error", "boom"));
    const noJitter = client(scriptedFetch(...failures(7), json(handle)).fetch, { maxRetries: 7 });
    await noJitter.knify.jobs.create(spec);
    expect(noJitter.sleeps).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);

    const fullJitter = client(scriptedFetch(...failures(2), json(handle)).fetch, { random: () => 0.999999 });
    await fullJitter.knify.jobs.create(spec);
    expect(fullJitter.sleeps[0]).toBeCloseTo(375, 0);
    expect(fullJitter.sleeps[1]).toBeCloseTo(750, 0);
  });

  it("gives up after maxRetries and throws the last error", async () => {
    const { fetch, seen } = scriptedFetch(...Array.from({ length: 3 }, () => problem(502, "bad_gateway", "upstream")));
    const { knify } = client(fetch);
    const error = await knify.jobs.get("job_1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).status).toBe(502);
    expect(seen).toHaveLength(3);
  });

  it.each([408, 429, 500, 503, 504])("retries status %i", async (status) => {
    const { fetch, seen } = scriptedFetch(problem(status, "x", "retry me"), json(handle));
    const { knify } = client(fetch);
    await expect(knify.jobs.create(spec)).resolves.toEqual(handle);
    expect(seen).toHaveLength(2);
  });

  it.each([400, 401, 403, 404, 409, 413, 422])("does not retry status %i", async (status) => {
    const { fetch, seen } = scriptedFetch(problem(status, "x", "final"));
    const { knify, sleeps } = client(fetch);
    await expect(knify.jobs.create(spec)).rejects.toMatchObject({ status });
    expect(seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("retries connection errors and then throws APIConnectionError naming the host and the cause", async () => {
    const refused = () =>
      new TypeError("fetch failed", { cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }) });
    const { fetch, seen } = scriptedFetch(refused(), refused(), refused());
    const { knify } = client(fetch);
    const error = await knify.jobs.get("job_1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as Error).message).toContain("https://api.test");
    expect((error as Error).message).toContain("ECONNREFUSED");
    expect(seen).toHaveLength(3);
  });

  it("maxRetries: 0 per call turns retries off", async () => {
    const { fetch, seen } = scriptedFetch(problem(503, "service_unavailable", "down"));
    const { knify } = client(fetch);
    await expect(knify.jobs.get("job_1", { maxRetries: 0 })).rejects.toBeInstanceOf(InternalServerError);
    expect(seen).toHaveLength(1);
  });
});

describe("server-requested waits", () => {
  it("honours Retry-After in seconds", async () => {
    const { fetch } = scriptedFetch(
      problem(429, "rate_limited", "slow down", {}, { "retry-after": "3" }),
      json(handle),
    );
    const { knify, sleeps } = client(fetch);
    await knify.jobs.create(spec);
    expect(sleeps).toEqual([3000]);
  });

  it("honours Retry-After as an HTTP date", async () => {
    const time = fakeTime(Date.parse("2025-11-17T10:00:00Z"));
    const { fetch } = scriptedFetch(
      problem(503, "service_unavailable", "down", {}, { "retry-after": "Mon, 17 Nov 2025 10:00:07 GMT" }),
      json(handle),
    );
    const knify = new KnifyClient(testOptions(fetch, { clock: time.clock, sleep: time.sleep }));
    await knify.jobs.create(spec);
    expect(time.sleeps).toEqual([7000]);
  });

  it("waits until X-RateLimit-Reset on a 429 without Retry-After", async () => {
    const time = fakeTime(1_700_000_000_000);
    const { fetch } = scriptedFetch(
      problem(429, "rate_limited", "slow down", {}, { "x-ratelimit-reset": "1700000005" }),
      json(handle),
    );
    const knify = new KnifyClient(testOptions(fetch, { clock: time.clock, sleep: time.sleep }));
    await knify.jobs.create(spec);
    expect(time.sleeps).toEqual([5000]);
  });

  it("does not hang for minutes without a deadline: a long Retry-After surfaces as RateLimitError", async () => {
    const { fetch, seen } = scriptedFetch(problem(429, "rate_limited", "slow down", {}, { "retry-after": "120" }));
    const { knify, sleeps } = client(fetch);
    const error = await knify.jobs.create(spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfter).toBe(120);
    expect(seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("waits a long Retry-After when the deadline allows it", async () => {
    const { fetch } = scriptedFetch(
      problem(429, "rate_limited", "slow down", {}, { "retry-after": "90" }),
      json(handle),
    );
    const { knify, sleeps } = client(fetch, { deadline: 120_000 });
    await knify.jobs.create(spec);
    expect(sleeps).toEqual([90_000]);
  });
});

describe("deadline", () => {
  it("never sleeps past the deadline: it throws the last error instead", async () => {
    const { fetch, seen } = scriptedFetch(
      ...Array.from({ length: 6 }, () => problem(503, "service_unavailable", "down")),
    );
    const { knify, sleeps } = client(fetch, { maxRetries: 5, deadline: 1200 });
    await expect(knify.jobs.get("job_1")).rejects.toBeInstanceOf(InternalServerError);
    // 500 ms fits in 1200; the next wait (1000 ms, to t=1500) would not.
    expect(sleeps).toEqual([500]);
    expect(seen).toHaveLength(2);
  });

  it("does not wait for a Retry-After that ends after the deadline", async () => {
    const { fetch, seen } = scriptedFetch(problem(429, "rate_limited", "slow down", {}, { "retry-after": "10" }));
    const { knify, sleeps } = client(fetch, { deadline: 5000 });
    await expect(knify.jobs.get("job_1")).rejects.toBeInstanceOf(RateLimitError);
    expect(sleeps).toEqual([]);
    expect(seen).toHaveLength(1);
  });

  it("a per-call deadline overrides the client's", async () => {
    const { fetch, seen } = scriptedFetch(problem(503, "service_unavailable", "down"), json(handle));
    const { knify, sleeps } = client(fetch, { deadline: 100 });
    await expect(knify.jobs.create(spec, { deadline: 10_000 })).resolves.toEqual(handle);
    expect(sleeps).toEqual([500]);
    expect(seen).toHaveLength(2);
  });
});

describe("idempotency keys", () => {
  it("gives every POST a knify-retry-<uuid> key, the same on each retry", async () => {
    const { fetch, seen } = scriptedFetch(
      new TypeError("fetch failed"),
      problem(500, "internal_error", "boom"),
      json(handle),
    );
    const { knify } = client(fetch);
    await knify.jobs.create(spec);
    const keys = seen.map((request) => request.headers.get("idempotency-key"));
    expect(keys[0]).toMatch(/^knify-retry-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(keys).size).toBe(1);
  });

  it("gives two calls two different keys", async () => {
    const { fetch, seen } = scriptedFetch(json(handle), json(handle));
    const { knify } = client(fetch);
    await knify.jobs.create(spec);
    await knify.jobs.create(spec);
    expect(seen[0]?.headers.get("idempotency-key")).not.toBe(seen[1]?.headers.get("idempotency-key"));
  });

  it("uses the caller's idempotencyKey on every attempt", async () => {
    const { fetch, seen } = scriptedFetch(problem(503, "service_unavailable", "down"), json(handle));
    const { knify } = client(fetch);
    await knify.jobs.create(spec, { idempotencyKey: "order-42" });
    expect(seen.map((request) => request.headers.get("idempotency-key"))).toEqual(["order-42", "order-42"]);
  });

  it("sends no key on GET", async () => {
    const { fetch, seen } = scriptedFetch(json([]));
    const { knify } = client(fetch);
    await knify.jobs.list();
    expect(seen[0]?.headers.has("idempotency-key")).toBe(false);
  });
});

describe("timeouts and aborts", () => {
  it("times out a hung attempt, retries it, then throws APITimeoutError", async () => {
    const { fetch, seen } = scriptedFetch(hang, hang);
    const { knify } = client(fetch, { timeout: 20, maxRetries: 1 });
    const error = await knify.jobs.get("job_1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APITimeoutError);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as Error).message).toContain("timed out after 20 ms");
    expect(seen).toHaveLength(2);
  });

  it("a per-call timeout overrides the client's", async () => {
    const { fetch } = scriptedFetch(hang);
    const { knify } = client(fetch, { timeout: 60_000, maxRetries: 0 });
    await expect(knify.jobs.get("job_1", { timeout: 10 })).rejects.toThrow("timed out after 10 ms");
  });

  it("rejects with APIUserAbortError when the caller aborts a request in flight, without retrying", async () => {
    const controller = new AbortController();
    const { fetch, seen } = scriptedFetch((request, signal) => {
      queueMicrotask(() => controller.abort());
      return hang(request, signal);
    });
    const { knify } = client(fetch);
    await expect(knify.jobs.get("job_1", { signal: controller.signal })).rejects.toBeInstanceOf(APIUserAbortError);
    expect(seen).toHaveLength(1);
  });

  it("does not call fetch when the signal is already aborted", async () => {
    const { fetch, seen } = scriptedFetch(json(handle));
    const { knify } = client(fetch);
    await expect(knify.jobs.get("job_1", { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(APIUserAbortError);
    expect(seen).toHaveLength(0);
  });

  it("an abort during the backoff wait stops the retries", async () => {
    const controller = new AbortController();
    const { fetch, seen } = scriptedFetch(problem(503, "service_unavailable", "down"), json(handle));
    const sleep = async (_ms: number, signal?: AbortSignal) => {
      controller.abort();
      if (signal?.aborted) throw signal.reason;
    };
    const knify = new KnifyClient(testOptions(fetch, { sleep }));
    await expect(knify.jobs.get("job_1", { signal: controller.signal })).rejects.toBeInstanceOf(APIUserAbortError);
    expect(seen).toHaveLength(1);
  });
});

describe("headers", () => {
  it("sends the bearer key, JSON accept, default and per-call headers", async () => {
    const { fetch, seen } = scriptedFetch(json(handle));
    const { knify } = client(fetch, { defaultHeaders: { "X-Team": "a", "X-Both": "default" } });
    await knify.jobs.create(spec, { headers: { "X-Both": "call", "X-Request-Id": "req_mine" } });
    const headers = seen[0]?.headers;
    expect(headers?.get("authorization")).toBe(`Bearer ${TEST_KEY}`);
    expect(headers?.get("accept")).toBe("application/json");
    expect(headers?.get("content-type")).toBe("application/json");
    expect(headers?.get("x-team")).toBe("a");
    expect(headers?.get("x-both")).toBe("call");
    expect(headers?.get("x-request-id")).toBe("req_mine");
    expect(headers?.get("user-agent")).toMatch(/^knify-sdk-typescript\//);
  });

  it("spreads fetchOptions into every fetch init (e.g. an undici dispatcher)", async () => {
    const dispatcher = { name: "my-agent" };
    const { fetch, seen } = scriptedFetch(problem(503, "service_unavailable", "down"), json([]));
    const { knify } = client(fetch, { fetchOptions: { dispatcher } });
    await knify.jobs.list();
    expect(seen.map((request) => (request.init as Record<string, unknown>).dispatcher)).toEqual([
      dispatcher,
      dispatcher,
    ]);
  });

  it("maps a 404 without retrying and keeps the response headers on the error", async () => {
    const { fetch } = scriptedFetch(problem(404, "not_found", "No job job_9 is visible to this key."));
    const { knify } = client(fetch);
    const error = (await knify.jobs.get("job_9").catch((e: unknown) => e)) as NotFoundError;
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.headers.get("x-request-id")).toBe("req_test123");
  });
});
