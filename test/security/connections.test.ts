import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

// #15 item 8: slow or idle clients must not hold connections (file descriptors) for long, and their number
// is capped. Real sockets on loopback; the limits are configured short so that the tests are quick, and
// every wait is for an event (a close, a response), with generous upper bounds.

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const portOf = (url: string) => Number(new URL(url).port);

/** Opens a raw socket, writes `text`, and resolves with everything the server sent once it closes the socket. */
function rawExchange(url: string, text: string): { socket: Socket; closed: Promise<string> } {
  const socket = connect(portOf(url), "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.write(text);
  const closed = new Promise<string>((resolve) => {
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", () => undefined);
  });
  return { socket, closed };
}

/** Fails if `promise` takes longer than `ms`: the bug this guards against held connections for 300 s. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still open after ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** A one-off GET / on its own connection (no pooled keep-alive socket that would count against the cap). */
function healthCheck(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("a trickled JSON body", () => {
  it("is cut off at KNIFY_BODY_TIMEOUT_MS with a 408 problem, and its connection is closed", async () => {
    server = await startTestServer({ env: { KNIFY_BODY_TIMEOUT_MS: "300" } });
    const head = [
      "POST /keys HTTP/1.1",
      "Host: 127.0.0.1",
      `Authorization: Bearer ${server.adminKey}`,
      "Content-Type: application/json",
      "Content-Length: 1000",
      "",
      "",
    ].join("\r\n");
    // Headers and the start of a body, then nothing more: the server must not wait for the rest.
    const { closed } = rawExchange(server.url, `${head}{"name":`);
    const answer = await within(closed, 15_000, "a trickled body");
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer.toLowerCase()).toContain("connection: close");
    expect(answer).toContain("application/problem+json");
    expect(answer).toContain('"code":"request_timeout"');
  });

  it("without a key gets its 401 at once and the connection closed, not drained", async () => {
    server = await startTestServer();
    const head = ["POST /keys HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", "Content-Length: 100000"];
    const { closed } = rawExchange(server.url, `${head.join("\r\n")}\r\n\r\n{"na`);
    const answer = await within(closed, 15_000, "an unauthenticated trickled body");
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer.toLowerCase()).toContain("connection: close");
  });
});

describe("incomplete request headers", () => {
  it("are cut off at KNIFY_HEADERS_TIMEOUT_MS", async () => {
    server = await startTestServer({ env: { KNIFY_HEADERS_TIMEOUT_MS: "300" } });
    // Half a request line and one header, never the blank line that ends the headers.
    const { closed } = rawExchange(server.url, "GET /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    const answer = await within(closed, 15_000, "a connection without complete headers");
    expect(answer === "" || answer.startsWith("HTTP/1.1 408")).toBe(true);
  });
});

describe("KNIFY_MAX_CONNECTIONS", () => {
  it("refuses connections beyond the cap, and serves again once they close", async () => {
    server = await startTestServer({ env: { KNIFY_MAX_CONNECTIONS: "4" } });
    const { url, http } = server;
    const count = () => new Promise<number>((resolve) => http.getConnections((_, n) => resolve(n)));

    // Four idle connections that send nothing: the cap is reached.
    const idle = Array.from({ length: 4 }, () => rawExchange(url, ""));
    while ((await count()) < 4) await new Promise((resolve) => setTimeout(resolve, 10));

    // The fifth is closed by the server at once, without an answer; a real request fails the same way.
    const extra = rawExchange(url, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect(await within(extra.closed, 15_000, "a connection over the cap")).toBe("");
    await expect(healthCheck(url)).rejects.toThrow();

    for (const { socket } of idle) socket.destroy();
    await Promise.all(idle.map((c) => c.closed));
    while ((await count()) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await healthCheck(url)).toBe(200);
  });

  it("is validated at start, with the variable's name", async () => {
    await expect(startTestServer({ env: { KNIFY_MAX_CONNECTIONS: "0" } })).rejects.toThrow("KNIFY_MAX_CONNECTIONS");
    await expect(
      startTestServer({ env: { KNIFY_HEADERS_TIMEOUT_MS: "20000", KNIFY_UPLOAD_TIMEOUT_MS: "10000" } }),
    ).rejects.toThrow("KNIFY_HEADERS_TIMEOUT_MS");
  });
});
