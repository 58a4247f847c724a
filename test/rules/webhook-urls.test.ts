import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 17: a webhook URL with credentials must be refused *for that reason* (the one earlier test passed
// because its host did not resolve), and the SSRF check must cover all of 127.0.0.0/8 and 240.0.0.0/4 at
// registration, not just 127.0.0.1.

let strict: TestServer;
let lenient: TestServer;
beforeAll(async () => {
  strict = await startTestServer();
  lenient = await startTestServer({ env: { KNIFY_WEBHOOK_ALLOW_PRIVATE: "1" } });
});
afterAll(async () => {
  await strict.stop();
  await lenient.stop();
});

const register = (server: TestServer, url: string) =>
  call(server.url, "POST", "/webhook-endpoints", { key: server.adminKey, body: { url, workspace_id: "ws_urls" } });

function expectRefusedUrl(reply: Awaited<ReturnType<typeof call>>, reason: string | RegExp) {
  expect(reply.status).toBe(400);
  expect(reply.body.code).toBe("validation_failed");
  expect(reply.body.detail).toMatch(reason);
  expect(reply.body.errors).toEqual([{ location: "body", path: "/url", message: reply.body.detail }]);
}

describe("a webhook URL with credentials", () => {
  it.each(["http://user:pass@127.0.0.1:9/hook", "http://user@127.0.0.1:9/hook", "http://:pass@127.0.0.1:9/hook"])(
    "is refused as credentials even where any host is allowed: %s",
    async (url) => {
      expectRefusedUrl(await register(lenient, url), /contains credentials/);
    },
  );

  it("is refused as credentials (not for its address) on a server that checks addresses", async () => {
    // 93.184.216.34 is a public literal: no DNS is involved, so only the credentials can be the reason.
    expectRefusedUrl(await register(strict, "https://user:pass@93.184.216.34/hook"), /contains credentials/);
    const plain = await register(strict, "https://93.184.216.34/hook");
    expect(plain.status).toBe(200);
  });

  it("is refused when an endpoint's URL is changed to one, leaving the endpoint as it was", async () => {
    const created = await register(lenient, "http://127.0.0.1:9/changed");
    expect(created.status).toBe(200);
    const path = `/webhook-endpoints/${created.body.id}`;
    const changed = await call(lenient.url, "PATCH", path, {
      key: lenient.adminKey,
      body: { url: "http://admin:hunter2@127.0.0.1:9/changed" },
    });
    expectRefusedUrl(changed, /contains credentials/);
    const shown = await call(lenient.url, "GET", path, { key: lenient.adminKey });
    expect(shown.body.url).toBe("http://127.0.0.1:9/changed");
  });
});

describe("SSRF ranges at registration", () => {
  it.each([
    ["http://127.0.0.2/hook", "a loopback address"],
    ["http://127.1.2.3:8080/hook", "a loopback address"],
    ["http://127.255.255.254/hook", "a loopback address"],
    ["http://[::ffff:127.9.9.9]/hook", "a loopback address"],
    ["http://[::ffff:7f0a:0b0c]/hook", "a loopback address"],
    ["http://240.0.0.1/hook", "a reserved, documentation or benchmarking address"],
    ["http://250.10.20.30/hook", "a reserved, documentation or benchmarking address"],
    ["http://255.255.255.254/hook", "a reserved, documentation or benchmarking address"],
    ["http://[::ffff:240.1.2.3]/hook", "a reserved, documentation or benchmarking address"],
  ])("refuses %s as %s", async (url, reason) => {
    const reply = await register(strict, url);
    expectRefusedUrl(reply, new RegExp(`is ${reason}\\. `));
    expect(reply.body.detail).toContain("KNIFY_WEBHOOK_ALLOW_PRIVATE=1");
    const listed = await call(strict.url, "GET", "/webhook-endpoints", { key: strict.adminKey });
    expect(listed.body.map((e: { url: string }) => e.url)).not.toContain(url);
  });
});
