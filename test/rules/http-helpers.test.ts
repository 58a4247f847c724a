import { describe, expect, it } from "vitest";
import type { ServerConfig } from "../../server/src/config.js";
import { fromBase64url, toBase64url } from "../../server/src/http/base64url.js";
import { healthHandlers } from "../../server/src/http/health.js";
import { ProblemError, problemBody } from "../../server/src/http/problem.js";
import { requestIdFrom } from "../../server/src/http/request-id.js";
import { parseTimestamp } from "../../server/src/http/timestamp.js";

// Issue 17: the http group's small helpers, which the first mutation run left thin (cursors' encoding, the
// problem body's fixed parts, request ids, the leap-second refusal). Each pins what the API shows of them.

describe("base64url cursors", () => {
  it("use - and _ for + and /, and drop the padding", () => {
    // "??>" and "???" are the bytes 3f 3f 3e and 3f 3f 3f: "Pz8+" and "Pz8/" in plain base64.
    expect(toBase64url("\u{1F600}?>")).toBe("8J-YgD8-");
    expect(toBase64url("??>")).toBe("Pz8-");
    expect(toBase64url("???")).toBe("Pz8_");
    expect(toBase64url("a")).toBe("YQ");
    expect(toBase64url("ab")).toBe("YWI");
  });

  it('decode back, - and _ included, and answer "" for what is not base64url', () => {
    for (const text of ["\u{1F600}?>", "??>", "???", "a", "ab", "job_01ABC|2025-11-17T10:00:00Z"]) {
      expect(fromBase64url(toBase64url(text))).toBe(text);
    }
    expect(fromBase64url("Pz8_")).toBe("???");
    expect(fromBase64url("Pz8-")).toBe("??>");
    expect(fromBase64url("not base64!")).toBe("");
  });
});

describe("GET /", () => {
  it("answers ok with the server's version", async () => {
    const { getHealth } = healthHandlers({ version: "1.2.3" } as ServerConfig);
    expect(await getHealth?.({} as never)).toEqual({ body: { status: "ok", version: "1.2.3" } });
  });
});

describe("problem bodies", () => {
  it("name the error, link its code, and carry the status's title", () => {
    const error = new ProblemError("not_found", "No job job_1.");
    expect(error.name).toBe("ProblemError");
    expect(error.status).toBe(404);
    expect(problemBody(error, "req_1")).toMatchObject({
      type: "https://docs.knify.io/errors/not_found",
      title: "Not Found",
      status: 404,
      detail: "No job job_1.",
      code: "not_found",
      request_id: "req_1",
    });
  });
});

describe("request ids", () => {
  it("are made as req_ + 24 hex digits, one after the other, when the client sent none or an unsafe one", () => {
    const first = requestIdFrom(undefined);
    const second = requestIdFrom("has spaces");
    expect(first).toMatch(/^req_[0-9a-f]{24}$/);
    expect(second).toMatch(/^req_[0-9a-f]{24}$/);
    // The same process part, then a counter one higher.
    expect(second.slice(0, 16)).toBe(first.slice(0, 16));
    expect(Number.parseInt(second.slice(16), 16)).toBe(Number.parseInt(first.slice(16), 16) + 1);
    expect(requestIdFrom("client-id.1_x")).toBe("client-id.1_x");
  });
});

describe("timestamps in request bodies", () => {
  it("are epoch milliseconds when JavaScript can represent them", () => {
    expect(parseTimestamp("2025-11-17T10:00:00Z", "/expires_at")).toBe(Date.UTC(2025, 10, 17, 10));
  });

  it("refuse a leap second with a 400 that says where and why", () => {
    let thrown: unknown;
    try {
      parseTimestamp("2016-12-31T23:59:60Z", "/spec/time_range/to");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProblemError);
    const problem = thrown as ProblemError;
    const message = "must be a time this server can represent (no leap second :60)";
    expect(problem.code).toBe("validation_failed");
    expect(problem.detail).toBe(`The request has 1 problem: body /spec/time_range/to ${message}.`);
    expect(problem.extras).toEqual({ errors: [{ location: "body", path: "/spec/time_range/to", message }] });
  });
});
