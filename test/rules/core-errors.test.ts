import { describe, expect, it } from "vitest";
import { systemClock } from "../../server/src/clock.js";
import { loadConfig } from "../../server/src/config.js";
import { operations } from "../../server/src/generated/operations.js";
import { createCore } from "../../server/src/http/core.js";
import { ProblemError } from "../../server/src/http/problem.js";
import type { CoreRequest } from "../../server/src/http/request.js";
import type { Store } from "../../server/src/store/store.js";

// Issue 17, from the mutation run of server/src/http/core.ts: what the core answers when an operation throws
// something other than a problem — the fallbacks for an adapter's own 400 and 413, and a 500 that is logged with
// the request id and tells the client nothing but that id. No suite of the group reached them: the real server's
// handlers only throw problems. Here the core runs `getHealth` (no key, no store) with handlers that throw.

const health = operations.filter((op) => op.operationId === "getHealth");
const config = loadConfig({ KNIFY_DATA_DIR: "/nonexistent/knify-core-errors" });

function coreThrowing(error: unknown) {
  const logged: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const core = createCore({
    store: {} as Store,
    clock: systemClock,
    logger: {
      error: (fields: Record<string, unknown>, message: string) => {
        logged.push({ fields, message });
      },
    } as never,
    config,
    handlers: {
      getHealth: async () => {
        throw error;
      },
    },
    operations: health,
  });
  return { core, logged };
}

const request = (headers: Record<string, string> = {}): CoreRequest => ({
  method: "GET",
  path: "/",
  search: "",
  headers,
  authorizationCount: 0,
  body: {
    read: async () => new Uint8Array(),
    stream: async function* () {},
    complete: true,
  },
  signal: new AbortController().signal,
  forwardedOrigin: null,
});

describe("the core's answer to an error", () => {
  it("is a 500 that names only the request id, with the error logged once under that id", async () => {
    const boom = new Error("database password is hunter2");
    const { core, logged } = coreThrowing(boom);
    const response = await core(request({ "x-request-id": "req_fixed_1" }));
    expect(response.status).toBe(500);
    expect(response.headers).toMatchObject({
      "X-Request-Id": "req_fixed_1",
      "X-Content-Type-Options": "nosniff",
      "Content-Type": "application/problem+json",
    });
    const body = JSON.parse(response.body as string);
    expect(body).toMatchObject({
      code: "internal_error",
      detail: "Something went wrong on our side. Quote request id req_fixed_1 when you report it.",
    });
    expect(response.body).not.toContain("hunter2");
    expect(logged).toEqual([{ fields: { request_id: "req_fixed_1", err: boom }, message: "unhandled error" }]);
  });

  it("turns an adapter's 400 and 413 into their problems, without logging them", async () => {
    const unreadable = coreThrowing(Object.assign(new Error("bad escape"), { status: 400 }));
    const tooLarge = coreThrowing(Object.assign(new Error("too big"), { status: 413 }));
    const teapot = coreThrowing(Object.assign(new Error("teapot"), { status: 418 }));
    const answers = await Promise.all([unreadable, tooLarge, teapot].map(({ core }) => core(request())));
    expect(
      answers.map((a) => [a.status, JSON.parse(a.body as string).code, JSON.parse(a.body as string).detail]),
    ).toEqual([
      [400, "validation_failed", "The request could not be read; check its URL and body."],
      [413, "payload_too_large", "The body is too large."],
      [500, "internal_error", expect.stringMatching(/^Something went wrong on our side/)],
    ]);
    expect([unreadable.logged, tooLarge.logged]).toEqual([[], []]);
    expect(teapot.logged).toHaveLength(1);
  });

  it("passes a problem on as it is", async () => {
    const { core, logged } = coreThrowing(new ProblemError("rate_limited", "Slow down.", {}, { "Retry-After": "3" }));
    const response = await core(request());
    expect(response.status).toBe(429);
    expect(response.headers["Retry-After"]).toBe("3");
    expect(JSON.parse(response.body as string)).toMatchObject({ code: "rate_limited", detail: "Slow down." });
    expect(logged).toEqual([]);
  });

  it("refuses to build without a handler for an operation it serves", () => {
    expect(() =>
      createCore({
        store: {} as Store,
        clock: systemClock,
        logger: console as never,
        config,
        handlers: {},
        operations: health,
      }),
    ).toThrow("no handler for operation getHealth (openapi.yaml declares it)");
  });
});
