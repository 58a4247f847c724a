import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 17, from the mutation run of server/src/http/body.ts: which Content-Types are JSON, what a broken or
// too-deep body is told, and the depth limit's exact edge had no test of their own.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function postKey(raw: string, contentType?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${server.adminKey}` };
  if (contentType !== undefined) headers["content-type"] = contentType;
  const response = await fetch(`${server.url}/keys`, { method: "POST", headers, body: raw });
  return { status: response.status, body: (await response.json()) as { code?: string; errors?: unknown } };
}

/** `{"a/b~": … "x" …}` nested `levels` deep. */
const nested = (levels: number) => {
  let value = '"x"';
  for (let i = 0; i < levels; i++) value = `{"a/b~":${value}}`;
  return value;
};

describe("JSON bodies", () => {
  it.each([
    ["application/json", 200],
    ["Application/JSON; charset=UTF-8", 200],
    ["application/vnd.knify+json", 200],
    [" application/json ;charset=utf-8", 200],
    ["application/jsonx", 415],
    ["text/json", 415],
    ["json+application/x", 415],
    ["application/+jsonx", 415],
    ["text/vnd.knify+json", 415],
  ])("Content-Type %j is answered %i", async (contentType, status) => {
    const res = await postKey(JSON.stringify({ name: "ct" }), contentType);
    expect(res.status).toBe(status);
    if (status === 415) {
      expect(res.body).toMatchObject({
        code: "unsupported_media_type",
        detail: "Send the body as JSON with Content-Type: application/json.",
      });
    }
  });

  it("refuses a body sent without a Content-Type (415), rather than guess it is JSON", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.adminKey}` },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(JSON.stringify({ name: "no-type" }));
    });
    expect(status).toBe(415);
  });

  it("says why a body is not JSON, and refuses a leading byte order mark as such", async () => {
    const cut = await postKey('{"name":', "application/json");
    expect(cut.status).toBe(400);
    expect(cut.body).toMatchObject({
      code: "invalid_json",
      detail: "The body is not valid JSON: Unexpected end of JSON input.",
    });
    const bom = await postKey('\ufeff{"name":"bom"}', "application/json");
    expect(bom.status).toBe(400);
    expect(bom.body.code).toBe("invalid_json");
  });

  it("takes 31 levels below the body and refuses the 32nd, at its JSON Pointer (~0 and ~1 escaped)", async () => {
    const fits = await postKey(`{"name":"deep","extra":${nested(31)}}`, "application/json");
    // Deep enough to be read: refused only for the unknown property.
    expect(fits.body.errors).toEqual([{ location: "body", path: "/extra", message: "is not a known property" }]);

    const deep = await postKey(`{"name":"deep","extra":${nested(32)}}`, "application/json");
    expect(deep.status).toBe(400);
    const pointer = `/extra${"/a~1b~0".repeat(31)}`;
    expect(deep.body).toMatchObject({
      code: "validation_failed",
      detail: `The body nests deeper than 32 levels (at ${pointer}); flatten it.`,
      errors: [{ location: "body", path: pointer, message: "nests deeper than 32 levels" }],
    });
  });
});
