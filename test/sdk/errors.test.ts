import {
  APIError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  JobFailedError,
  KnifyClient,
  KnifyError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from "@knify/sdk";
import { describe, expect, it } from "vitest";
import { job, json, problem, scriptedFetch, TEST_KEY, testOptions } from "./support/scripted-fetch.js";

/** Calls `jobs.get` once against a server answering `response`, and returns what it threw. */
async function thrown(response: Response): Promise<unknown> {
  const { fetch } = scriptedFetch(response);
  const client = new KnifyClient(testOptions(fetch, { maxRetries: 0 }));
  return client.jobs.get("job_1").then(
    () => {
      throw new Error("expected an error");
    },
    (error: unknown) => error,
  );
}

describe("APIError.from: one class per status", () => {
  it.each([
    [400, BadRequestError, "validation_failed"],
    [401, AuthenticationError, "unauthorized"],
    [403, PermissionDeniedError, "forbidden"],
    [404, NotFoundError, "not_found"],
    [409, ConflictError, "job_not_continuable"],
    [422, UnprocessableEntityError, "idempotency_key_reused"],
    [429, RateLimitError, "rate_limited"],
    [500, InternalServerError, "internal_error"],
    [503, InternalServerError, "service_unavailable"],
  ] as const)("%i becomes %o", async (status, ErrorClass, code) => {
    const error = await thrown(problem(status, code, `detail for ${status}`));
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(KnifyError);
    const apiError = error as APIError;
    expect(apiError.status).toBe(status);
    expect(apiError.code).toBe(code);
    expect(apiError.requestId).toBe("req_test123");
    expect(apiError.problem?.detail).toBe(`detail for ${status}`);
    expect(apiError.message).toBe(`${status} ${code}: detail for ${status} (request req_test123)`);
    expect(apiError.name).toBe(ErrorClass.name);
  });

  it.each([405, 413, 415])("%i, which has no class of its own, is a plain APIError", async (status) => {
    const error = await thrown(problem(status, "other", "nope"));
    expect(error).toBeInstanceOf(APIError);
    expect(error).not.toBeInstanceOf(BadRequestError);
    expect((error as APIError).status).toBe(status);
  });

  it("keeps every field problem of a 400", async () => {
    const errors = [{ location: "body", path: "/spec", message: "must have required property 'prompt'" }];
    const error = (await thrown(problem(400, "validation_failed", "1 problem", { errors }))) as BadRequestError;
    expect(error.errors).toEqual(errors);
  });

  it("names the missing permission of a 403", async () => {
    const error = (await thrown(
      problem(403, "forbidden", "needs jobs:read", { missing_permission: "jobs:read" }),
    )) as PermissionDeniedError;
    expect(error.missingPermission).toBe("jobs:read");
  });

  it("reads Retry-After and X-RateLimit-Reset of a 429", async () => {
    const error = (await thrown(
      problem(429, "rate_limited", "slow down", {}, { "retry-after": "2", "x-ratelimit-reset": "1700000060" }),
    )) as RateLimitError;
    expect(error.retryAfter).toBe(2);
    expect(error.resetAt).toEqual(new Date(1_700_000_060_000));
  });

  it("handles a body that is not a problem document (a proxy's HTML page)", async () => {
    const error = (await thrown(
      new Response("<html>Bad Gateway</html>", { status: 502, headers: { "x-request-id": "req_proxy" } }),
    )) as InternalServerError;
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.code).toBeUndefined();
    expect(error.problem).toBeUndefined();
    expect(error.requestId).toBe("req_proxy");
    expect(error.message).toBe("502 <html>Bad Gateway</html> (request req_proxy)");
  });

  it("handles an empty error body", async () => {
    const error = (await thrown(new Response(null, { status: 404 }))) as NotFoundError;
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe("404 the server sent no error details");
  });

  it("never carries the API key, even when the server echoes it", async () => {
    const error = (await thrown(problem(401, "unauthorized", `The key ${TEST_KEY} is revoked.`))) as APIError;
    expect(error.message).not.toContain(TEST_KEY);
    expect(JSON.stringify(error.problem)).not.toContain(TEST_KEY);
    expect(error.message).toContain("[redacted]");
  });

  it("can be built directly from a status, a body and headers", () => {
    const error = APIError.from(
      409,
      { code: "job_not_continuable", detail: "gone", request_id: "req_1" },
      new Headers(),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe("409 job_not_continuable: gone (request req_1)");
  });
});

describe("JobFailedError", () => {
  it("carries the job and its error", async () => {
    const failed = job("failed", { error: { code: "agent_failed", message: "agent exited with code 2" } });
    const { fetch } = scriptedFetch(json(failed));
    const client = new KnifyClient(testOptions(fetch));
    const error = (await client.jobs.waitFor("job_1").catch((e: unknown) => e)) as JobFailedError;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toBeInstanceOf(KnifyError);
    expect(error.job).toEqual(failed);
    expect(error.error).toEqual({ code: "agent_failed", message: "agent exited with code 2" });
    expect(error.message).toBe("Job job_1 failed: agent exited with code 2 (agent_failed).");
  });
});
