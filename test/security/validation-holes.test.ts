import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 15, items 9 and 12: inputs that passed validation and reached the store as nonsense or a 500.
let server: TestServer;
const api = (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
  call(server.url, method, path, { key: server.adminKey, ...options });

beforeAll(async () => {
  server = await startTestServer();
  // Two keys more than a page of one, so GET /keys?limit=1 always has a next page.
  await server.key({ name: "page filler 1" });
  await server.key({ name: "page filler 2" });
});
afterAll(() => server.stop());

/** Sends raw HTTP/1.1 bytes and returns the status line and headers of the answer. */
function rawRequest(text: string): Promise<{ status: number; head: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.end(text));
    let data = "";
    socket.on("data", (chunk: Buffer) => {
      data += chunk.toString("latin1");
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const head = data.split("\r\n\r\n")[0] ?? "";
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), head });
    });
  });
}

const linkOf = (head: string) => /^link: (.*)$/im.exec(head)?.[1];

describe("expires_at with a leap second", () => {
  it.each(["2020-12-31T23:59:60Z", "2030-06-30T23:59:60Z"])("%s is a 400, not a key that never expires", async (at) => {
    const res = await api("POST", "/keys", { body: { name: "leap", expires_at: at } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.errors).toEqual([expect.objectContaining({ location: "body", path: "/expires_at" })]);
  });
});

describe("deeply nested JSON", () => {
  const nested = (depth: number) => {
    let value: unknown = "leaf";
    for (let i = 0; i < depth; i++) value = { a: value };
    return value;
  };

  it("metadata ~4,100 levels deep is a 400 naming the limit, not a 500", async () => {
    // Written by hand: JSON.stringify itself would overflow the test's stack.
    const metadata = `${'{"a":'.repeat(4100)}"leaf"${"}".repeat(4100)}`;
    const res = await api("POST", "/jobs", {
      headers: { "Content-Type": "application/json" },
      raw: `{"spec":{"job_type":"cursor_task","prompt":"deep","metadata":${metadata}}}`,
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.detail).toMatch(/deeper than 32 levels/);
  });

  it("a reasonable nesting still passes", async () => {
    const res = await api("POST", "/jobs", {
      body: { spec: { job_type: "cursor_task", prompt: "shallow", metadata: { x: nested(20) } } },
    });
    expect(res.status).toBe(200);
  });
});

describe("the Host header and Link", () => {
  const list = (hostLine: string) =>
    rawRequest(
      `GET /keys?limit=1 HTTP/1.1\r\n${hostLine}Authorization: Bearer ${server.adminKey}\r\nConnection: close\r\n\r\n`,
    );

  it.each([
    ["an empty", "Host: \r\n"],
    ["a malformed", "Host: [::1\r\n"],
    ["a bad-port", "Host: 127.0.0.1:99999\r\n"],
  ])("a list with %s Host answers 200 with a relative Link", async (_what, hostLine) => {
    const res = await list(hostLine);
    expect(res.status).toBe(200);
    expect(linkOf(res.head)).toMatch(/^<\/keys\?limit=1&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
  });

  it("never reflects a foreign Host into Link", async () => {
    const res = await list("Host: evil.example\r\n");
    expect(res.status).toBe(200);
    expect(linkOf(res.head)).not.toContain("evil");
    expect(linkOf(res.head)).toMatch(/^<\/keys\?/);
  });

  it("builds absolute links from KNIFY_PUBLIC_URL, whatever the Host", async () => {
    const proxied = await startTestServer({ env: { KNIFY_PUBLIC_URL: "https://api.example.com/knify/" } });
    try {
      await proxied.key({ name: "one more" });
      const { port } = new URL(proxied.url);
      const res = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), "127.0.0.1", () =>
          socket.end(
            `GET /keys?limit=1 HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${proxied.adminKey}\r\nConnection: close\r\n\r\n`,
          ),
        );
        let data = "";
        socket.on("data", (chunk: Buffer) => {
          data += chunk.toString("latin1");
        });
        socket.on("error", reject);
        socket.on("close", () => resolve(data));
      });
      expect(linkOf(res)).toMatch(
        /^<https:\/\/api\.example\.com\/knify\/keys\?limit=1&cursor=[A-Za-z0-9_-]+>; rel="next"$/,
      );
    } finally {
      await proxied.stop();
    }
  });
});

describe("prompt size in bytes", () => {
  it("a prompt under 100,000 characters but over 100,000 UTF-8 bytes is a 400 (it would fail with E2BIG)", async () => {
    const prompt = "é".repeat(60_000); // 60,000 characters, 120,000 bytes
    const res = await api("POST", "/jobs", { body: { spec: { job_type: "cursor_task", prompt } } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { location: "body", path: "/spec/prompt", message: "must be at most 100000 bytes in UTF-8" },
    ]);
  });

  it("applies to continue too", async () => {
    const job = await api("POST", "/jobs", { body: { spec: { job_type: "cursor_task", prompt: "first" } } });
    const res = await api("POST", `/jobs/${job.body.job_id}/continue`, {
      body: { spec: { prompt: "€".repeat(40_000) } },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe("/spec/prompt");
  });
});

describe("several Authorization headers", () => {
  it("are refused with 400, even when the first is a valid key", async () => {
    const res = await rawRequest(
      `GET /keys/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.adminKey}\r\nAuthorization: Bearer knify_live_other\r\nConnection: close\r\n\r\n`,
    );
    expect(res.status).toBe(400);
    const single = await rawRequest(
      `GET /keys/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.adminKey}\r\nConnection: close\r\n\r\n`,
    );
    expect(single.status).toBe(200);
  });
});

describe("404 and 405 details", () => {
  it("do not echo the raw path", async () => {
    const probe = "/%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    const missing = await call(server.url, "GET", probe);
    expect(missing.status).toBe(404);
    expect(missing.body.detail).not.toMatch(/script|alert/i);
    const wrongMethod = await call(server.url, "DELETE", "/jobs/job_%3Cscript%3E", { key: server.adminKey });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.detail).toContain("/jobs/{job_id}");
    expect(wrongMethod.body.detail).not.toMatch(/script/i);
  });
});
