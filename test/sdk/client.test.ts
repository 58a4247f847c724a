import { inspect } from "node:util";
import { KnifyClient, KnifyError, NotFoundError } from "@knify/sdk";
import { generateSecret } from "@knify/sdk/webhooks";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterEach, describe, expect, it, vi } from "vitest";
import { job, json, problem, scriptedFetch, TEST_KEY, testOptions } from "./support/scripted-fetch.js";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("new KnifyClient", () => {
  it("takes the key as the first argument and options as the second", async () => {
    const { fetch, seen } = scriptedFetch(json(job("running")));
    const client = new KnifyClient("knify_test_first", { baseURL: "https://one.test", fetch });
    await client.jobs.get("job_1");
    expect(seen[0]?.url.href).toBe("https://one.test/jobs/job_1");
    expect(seen[0]?.headers.get("authorization")).toBe("Bearer knify_test_first");
  });

  it("takes everything as one options object", async () => {
    const { fetch, seen } = scriptedFetch(json(job("running")));
    const client = new KnifyClient({ apiKey: "knify_test_object", baseURL: "https://two.test/", fetch });
    await client.jobs.get("job_1");
    expect(client.baseURL).toBe("https://two.test");
    expect(seen[0]?.url.href).toBe("https://two.test/jobs/job_1");
    expect(seen[0]?.headers.get("authorization")).toBe("Bearer knify_test_object");
  });

  it("reads KNIFY_API_KEY and KNIFY_BASE_URL from the environment", async () => {
    vi.stubEnv("KNIFY_API_KEY", "knify_test_fromenv");
    vi.stubEnv("KNIFY_BASE_URL", "http://127.0.0.1:8080");
    const { fetch, seen } = scriptedFetch(json({ status: "ok", version: "0.1.0" }));
    const client = new KnifyClient({ fetch });
    await expect(client.health()).resolves.toEqual({ status: "ok", version: "0.1.0" });
    expect(seen[0]?.url.href).toBe("http://127.0.0.1:8080/");
    expect(seen[0]?.headers.get("authorization")).toBe("Bearer knify_test_fromenv");
  });

  it("defaults to https://api.knify.io", () => {
    vi.stubEnv("KNIFY_BASE_URL", "");
    expect(new KnifyClient("knify_test_x").baseURL).toBe("https://api.knify.io");
  });

  it("throws a clear error at construction when there is no key", () => {
    vi.stubEnv("KNIFY_API_KEY", "");
    expect(() => new KnifyClient()).toThrow(KnifyError);
    expect(() => new KnifyClient()).toThrow(/KNIFY_API_KEY/);
    expect(() => new KnifyClient({ apiKey: "  " })).toThrow(/No API key/);
  });

  it("refuses a key with a trailing newline without echoing it", () => {
    const error = (() => {
      try {
        new KnifyClient(`${TEST_KEY}\n`);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toMatch(/whitespace/);
    expect(error?.message).not.toContain(TEST_KEY);
  });

  it.each([
    [{ baseURL: "api.knify.io" }, /absolute URL/],
    [{ baseURL: "ftp://api.knify.io" }, /http or https/],
    [{ timeout: 0 }, /timeout/],
    [{ maxRetries: -1 }, /maxRetries/],
    [{ maxRetries: 1.5 }, /whole number/],
    [{ deadline: Number.NaN }, /deadline/],
  ])("rejects invalid options %o", (options, message) => {
    expect(() => new KnifyClient(TEST_KEY, options)).toThrow(message);
  });

  it("never shows the key when the client is logged or serialised", () => {
    const client = new KnifyClient(TEST_KEY);
    expect(inspect(client, { depth: 10 })).not.toContain(TEST_KEY);
    expect(JSON.stringify(client)).not.toContain(TEST_KEY);
  });
});

describe("client.withOptions", () => {
  it("returns a new client with the changes and leaves the original alone", async () => {
    const { fetch, seen } = scriptedFetch(json([]), json([]));
    const client = new KnifyClient(testOptions(fetch));
    const other = client.withOptions({ baseURL: "https://other.test", defaultHeaders: { "X-Env": "staging" } });
    expect(other).not.toBe(client);
    await other.jobs.list();
    await client.jobs.list();
    expect(seen.map((r) => r.url.origin)).toEqual(["https://other.test", "https://api.test"]);
    expect(seen.map((r) => r.headers.get("x-env"))).toEqual(["staging", null]);
    expect(seen[0]?.headers.get("authorization")).toBe(`Bearer ${TEST_KEY}`);
  });
});

describe(".withResponse()", () => {
  it("gives the data, the response, the request id and the rate-limit state", async () => {
    const { fetch } = scriptedFetch(
      json(job("running"), 200, {
        "x-request-id": "req_abc",
        "x-ratelimit-limit": "1000",
        "x-ratelimit-remaining": "998",
        "x-ratelimit-reset": "1700000060",
      }),
    );
    const client = new KnifyClient(testOptions(fetch));
    const { data, response, requestId, rateLimit } = await client.jobs.get("job_1").withResponse();
    expect(data.status).toBe("running");
    expect(response.status).toBe(200);
    expect(requestId).toBe("req_abc");
    expect(rateLimit).toEqual({ limit: 1000, remaining: 998, reset: new Date(1_700_000_060_000) });
  });

  it("reports missing or malformed rate-limit headers as undefined", async () => {
    const { fetch } = scriptedFetch(json(job("running"), 200, { "x-ratelimit-limit": "lots" }));
    const client = new KnifyClient(testOptions(fetch));
    const { rateLimit, requestId } = await client.jobs.get("job_1").withResponse();
    expect(rateLimit).toEqual({ limit: undefined, remaining: undefined, reset: undefined });
    expect(requestId).toBeUndefined();
  });

  it("rejects with the typed error, like awaiting the call does", async () => {
    const { fetch } = scriptedFetch(problem(404, "not_found", "no such job"));
    const client = new KnifyClient(testOptions(fetch));
    await expect(client.jobs.get("job_9").withResponse()).rejects.toBeInstanceOf(NotFoundError);
  });

  it("makes a single request whether awaited, withResponse()d or both", async () => {
    const { fetch, seen } = scriptedFetch(json(job("running")));
    const client = new KnifyClient(testOptions(fetch));
    const call = client.jobs.get("job_1");
    const [data, { data: same }] = await Promise.all([call, call.withResponse()]);
    expect(data).toEqual(same);
    expect(seen).toHaveLength(1);
  });
});

describe("logging", () => {
  function capture() {
    const lines: { level: string; args: unknown[] }[] = [];
    const logger = Object.fromEntries(
      ["debug", "info", "warn", "error"].map((level) => [level, (...args: unknown[]) => lines.push({ level, args })]),
    ) as unknown as Console;
    return { lines, logger };
  }

  it("redacts the key, created secrets and Authorization from every line, at debug level", async () => {
    const createdKey = { key_id: "key_1", api_key: "knify_live_NEWSECRETnewsecretNEWSECRETnew_abcdef", name: "k" };
    const endpoint = { id: "we_1", secret: "whsec_TOPSECRETwebhook" };
    const { fetch } = scriptedFetch(
      problem(503, "service_unavailable", `key ${TEST_KEY} overloaded`),
      json(createdKey),
      json(endpoint),
    );
    const { lines, logger } = capture();
    const client = new KnifyClient(testOptions(fetch, { logger, logLevel: "debug" }));
    await client.keys.create({ name: "k" });
    await client.webhookEndpoints.create({ url: "https://hooks.example.com/k" });

    const text = JSON.stringify(lines);
    expect(lines.length).toBeGreaterThan(4);
    expect(lines.some((line) => line.level === "info" && String(line.args[0]).includes("retry 1/2"))).toBe(true);
    for (const secret of [TEST_KEY, createdKey.api_key, endpoint.secret]) expect(text).not.toContain(secret);
    expect(text).toContain('"authorization":"[redacted]"');
    expect(text).toContain('"api_key":"[redacted]"');
    expect(text).toContain('"secret":"[redacted]"');
    // Non-secret content is still there to debug with.
    expect(text).toContain("hooks.example.com");
  });

  it("writes nothing below the chosen level", async () => {
    const { fetch } = scriptedFetch(problem(503, "service_unavailable", "down"), json([]));
    const { lines, logger } = capture();
    const client = new KnifyClient(testOptions(fetch, { logger, logLevel: "warn" }));
    await client.jobs.list();
    expect(lines).toEqual([]);
  });

  it("warns when it gives up after retries", async () => {
    const { fetch } = scriptedFetch(
      problem(503, "service_unavailable", "down"),
      problem(503, "service_unavailable", "down"),
    );
    const { lines, logger } = capture();
    const client = new KnifyClient(testOptions(fetch, { logger, logLevel: "warn", maxRetries: 1 }));
    await expect(client.jobs.list()).rejects.toThrow();
    expect(lines.map((line) => line.level)).toEqual(["warn"]);
    expect(String(lines[0]?.args[0])).toContain("failed after 2 attempt(s): status 503");
  });
});

describe("client.request (escape hatch)", () => {
  it("calls any path with query, body, auth and an idempotency key", async () => {
    const { fetch, seen } = scriptedFetch(json({ ok: true }));
    const client = new KnifyClient(testOptions(fetch));
    const data = await client.request<{ ok: boolean }>("post", "/experimental/thing", {
      query: { dry_run: true, n: 2 },
      body: { a: 1 },
    });
    expect(data).toEqual({ ok: true });
    const request = seen[0];
    expect(request?.method).toBe("POST");
    expect(request?.url.href).toBe("https://api.test/experimental/thing?dry_run=true&n=2");
    expect(JSON.parse(request?.body ?? "")).toEqual({ a: 1 });
    expect(request?.headers.get("idempotency-key")).toMatch(/^knify-retry-/);
    expect(request?.headers.get("authorization")).toBe(`Bearer ${TEST_KEY}`);
  });

  it("retries and maps errors like the typed methods", async () => {
    const { fetch, seen } = scriptedFetch(problem(500, "internal_error", "boom"), problem(404, "not_found", "nope"));
    const client = new KnifyClient(testOptions(fetch));
    await expect(client.request("GET", "/nowhere")).rejects.toBeInstanceOf(NotFoundError);
    expect(seen).toHaveLength(2);
  });
});

describe("with msw", () => {
  it("is intercepted even when the client was created before server.listen()", async () => {
    const client = new KnifyClient(TEST_KEY, { baseURL: "https://api.knify.io", maxRetries: 0, logLevel: "off" });
    const server = setupServer(
      http.get("https://api.knify.io/jobs/:id", ({ params, request }) =>
        HttpResponse.json(job("completed", { id: params.id, metadata_auth: request.headers.get("authorization") })),
      ),
    );
    server.listen({ onUnhandledRequest: "error" });
    try {
      const got = (await client.jobs.get("job_msw")) as Record<string, unknown>;
      expect(got.id).toBe("job_msw");
      expect(got.metadata_auth).toBe(`Bearer ${TEST_KEY}`);
    } finally {
      server.close();
    }
  });
});

describe("client.webhooks", () => {
  it("exposes sign, verify and unwrap from @knify/sdk/webhooks", () => {
    const client = new KnifyClient(TEST_KEY);
    const secret = generateSecret();
    const body = JSON.stringify({
      id: "evt_1",
      type: "webhook.test",
      created_at: "2025-11-17T10:00:00Z",
      data: { endpoint_id: "we_1", message: "hi" },
    });
    const headers = client.webhooks.sign({ payload: body, secret });
    expect(client.webhooks.verify(body, headers["X-Knify-Signature"], secret)).toBe(true);
    expect(client.webhooks.unwrap(body, { ...headers }, secret).type).toBe("webhook.test");
  });
});
