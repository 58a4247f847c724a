import { describe, expect, it } from "vitest";
import { testServerForFile } from "../support/server.js";

// Issue 17, from the mutation run of server/src/http/validate.ts: every 400 `validation_failed` lists its
// problems as `{ location, path, message }` and sums them up in `detail`, and no test pinned those words —
// emptying "is not a known property", the enum's list or the detail's count passed the suite. A user reads
// exactly these to fix a request, so each is asserted here as sent.

const { admin } = testServerForFile();

describe("validation problems", () => {
  it("names an unknown body property in the path, with one problem in the singular", async () => {
    const res = await admin("POST", "/keys", { name: "k", nmae: "typo" });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.errors).toEqual([{ location: "body", path: "/nmae", message: "is not a known property" }]);
    expect(res.body.detail).toBe("The request has 1 problem: body /nmae is not a known property");
  });

  it("lists an enum's values, and counts several problems in the plural", async () => {
    const res = await admin("POST", "/jobs", { spec: { job_type: "cursor_task", prompt: "p", model: "gpt-0" } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        location: "body",
        path: "/spec/model",
        message: "must be one of: auto, sonnet-4.5, opus-4.1, composer-1, gpt-5",
      },
    ]);
    const two = await admin("POST", "/keys", { name: "", extra: 1 });
    expect(two.body.errors).toHaveLength(2);
    expect(two.body.detail).toMatch(/^The request has 2 problems: body \/\S* .+; body \/\S* .+$/);
  });

  it("names a query parameter without a leading slash, and its enum's values", async () => {
    const res = await admin("GET", "/jobs?status=done");
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { location: "query", path: "status", message: "must be one of: pending, running, completed, failed" },
    ]);
    expect(res.body.detail).toBe(
      "The request has 1 problem: query status must be one of: pending, running, completed, failed",
    );
  });

  it("says what is wrong with the body as a whole at the path /", async () => {
    const res = await admin("POST", "/keys", []);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ location: "body", path: "/", message: "must be object" }]);
  });
});
