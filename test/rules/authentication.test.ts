import { createHash } from "node:crypto";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../server/src/auth/key-format.js";
import { call, type Reply } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// What each 401 says (issue 17: the mutation run found every refusal message and challenge unpinned), and
// the exact shape of an acceptable Authorization header.

let server: TestServer;
let key = "";
beforeAll(async () => {
  server = await startTestServer();
  key = (await server.key({ name: "auth rules" })).apiKey;
});
afterAll(() => server.stop());

const verify = (authorization?: string) =>
  call(
    server.url,
    "GET",
    "/keys/verify",
    authorization === undefined ? {} : { headers: { Authorization: authorization } },
  );
const checksum = (body: string) => createHash("sha256").update(body).digest("hex").slice(0, 6);
const INVALID_TOKEN = 'Bearer realm="knify", error="invalid_token"';

function expect401(reply: Reply, detail: RegExp, challenge = INVALID_TOKEN) {
  expect(reply.status).toBe(401);
  expect(reply.body.code).toBe("unauthorized");
  expect(reply.body.detail).toMatch(detail);
  expect(reply.headers.get("www-authenticate")).toBe(challenge);
}

describe("401 answers", () => {
  it("without credentials: says the header is missing, and the challenge has no error (RFC 6750 §3)", async () => {
    expect401(await verify(), /has no Authorization header/, 'Bearer realm="knify"');
    expect401(await verify(""), /has no Authorization header/, 'Bearer realm="knify"');
  });

  it("with another scheme: names the Bearer scheme", async () => {
    expect401(await verify(`Basic ${Buffer.from("u:p").toString("base64")}`), /must use the Bearer scheme/);
    expect401(await verify(`XBearer ${key}`), /must use the Bearer scheme/);
    expect401(await verify(`Bearer ${key} extra`), /must use the Bearer scheme/);
    expect401(await verify("Bearer"), /must use the Bearer scheme/);
  });

  it("with a key that is not well formed or whose checksum is wrong: says malformed, before any lookup", async () => {
    const last = key.at(-1) === "0" ? "1" : "0";
    expect401(await verify(`Bearer ${key.slice(0, -1)}${last}`), /malformed/);
    expect401(await verify("Bearer knify_live_short_abcdef"), /malformed/);
    // A well-formed key behind another prefix, with the checksum of the whole (so only the anchors refuse it).
    const prefixed = `x${key.slice(0, -7)}`;
    expect401(await verify(`Bearer ${prefixed}_${checksum(prefixed)}`), /malformed/);
    const body = key.slice(0, -7);
    expect401(await verify(`Bearer ${body}_${checksum(body)}0`), /malformed/);
  });

  it("with a well-formed key that does not exist: says invalid, revoked or expired", async () => {
    expect401(await verify(`Bearer ${generateApiKey("live").apiKey}`), /invalid, revoked or expired/);
  });
});

describe("an acceptable Authorization header", () => {
  it("takes the scheme in any case and any number of spaces before the key", async () => {
    expect((await verify(`bearer ${key}`)).status).toBe(200);
    expect((await verify(`BEARER   ${key}`)).status).toBe(200);
  });

  it("appears once: two are a 400 naming the header, even when the first is valid", async () => {
    const { port } = new URL(server.url);
    const raw = await new Promise<string>((resolve, reject) => {
      let text = "";
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.end(
          `GET /keys/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nAuthorization: Bearer ${key}\r\nConnection: close\r\n\r\n`,
        );
      });
      socket.on("data", (chunk: Buffer) => {
        text += chunk;
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    const reply = { status: Number(raw.split(" ")[1]), body: JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4)) };
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe("validation_failed");
    expect(reply.body.detail).toMatch(/has 2 Authorization headers; send exactly one/);
    expect(reply.body.errors).toEqual([{ location: "header", path: "authorization", message: "must appear once" }]);
  });
});

describe("a rotated-out admin secret", () => {
  it("is refused key administration with the permission it lacks named", async () => {
    const admin = await server.key({ permissions: ["admin:all"] });
    const rotated = await call(server.url, "POST", `/keys/${admin.id}/rotate`, {
      key: admin.apiKey,
      body: { grace_period_seconds: 600 },
    });
    expect(rotated.status).toBe(200);
    const refused = await call(server.url, "GET", "/keys", { key: admin.apiKey });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "forbidden", missing_permission: "admin:all" });
    expect(refused.body.detail).toContain(`key ${admin.id} was rotated out`);
    // Its own record stays readable (self-access).
    expect((await call(server.url, "GET", `/keys/${admin.id}`, { key: admin.apiKey })).status).toBe(200);
  });
});
