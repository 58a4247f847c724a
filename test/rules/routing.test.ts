import { describe, expect, it } from "vitest";
import { testServerForFile } from "../support/server.js";

// Issue 17, from the mutation run of server/src/http/router.ts: which operation a method and path reach, and
// what a request none takes is told. The 405's list of methods (body and `Allow`), its route template, and
// the path's case and trailing slash had one test each or none.

const { admin } = testServerForFile();

describe("routing", () => {
  it("answers 405 with every method of the path once, in the body and in Allow, naming the route's template", async () => {
    // /keys/verify is its own GET route and also a {key_id} (GET, DELETE, PATCH): HEAD and GET are listed once.
    const res = await admin("PUT", "/keys/verify");
    expect(res.status).toBe(405);
    expect(res.body.code).toBe("method_not_allowed");
    expect(res.body.allowed_methods).toEqual(["HEAD", "GET", "DELETE", "PATCH"]);
    expect(res.headers.get("allow")).toBe("HEAD, GET, DELETE, PATCH");
    expect(res.body.detail).toBe("PUT is not allowed on /keys/verify; use HEAD, GET, DELETE, PATCH.");
    const job = await admin("DELETE", "/jobs/job_0123456789");
    expect(job.body.detail).toBe("DELETE is not allowed on /jobs/{job_id}; use HEAD, GET.");
    expect(job.headers.get("allow")).toBe("HEAD, GET");
  });

  it("answers 404 to a path no operation has, without echoing it", async () => {
    for (const path of ["/jobz", "/jobs/a/b/c", "/keys/k/usage/x", "//jobs"]) {
      const res = await admin("GET", path);
      expect([path, res.status, res.body.code]).toEqual([path, 404, "not_found"]);
      expect(res.body.detail).toBe(
        "There is no such path in the Knify API. Check the path and the base URL against the API reference.",
      );
      expect(res.headers.get("allow")).toBeNull();
    }
  });

  it("takes a path in any case and with one trailing slash, and a method in any case", async () => {
    for (const path of ["/keys", "/keys/", "/KEYS", "/Keys/"]) {
      const res = await admin("GET", path);
      expect([path, res.status]).toEqual([path, 200]);
    }
    expect((await admin("GET", "/keys//")).status).toBe(404);
    expect((await admin("GET", "/")).status).toBe(200);
    expect((await admin("get", "/keys")).status).toBe(200);
  });

  it("answers HEAD wherever GET is answered", async () => {
    const res = await admin("HEAD", "/keys");
    expect(res.status).toBe(200);
    expect((await admin("HEAD", "/jobs/job_0123456789")).status).toBe(404);
  });

  it("decodes a path parameter, and leaves a malformed escape for the validator to refuse", async () => {
    const created = await admin("POST", "/keys", { name: "routing" });
    const id: string = created.body.key_id;
    const encoded = id.replace(/_/g, "%5F");
    const res = await admin("GET", `/keys/${encoded}`);
    expect([res.status, res.body.key_id]).toEqual([200, id]);
    const bad = await admin("GET", "/keys/%E0%A4%A");
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ location: "path", path: "key_id" })]);
  });
});
