import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  APIConnectionError,
  APIError,
  APITimeoutError,
  InternalServerError,
  KnifyClient,
  KnifyError,
  NotFoundError,
} from "@knify/sdk";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { Agent, type Dispatcher } from "undici";
import { afterEach, describe, expect, it } from "vitest";

// In Node the client sends through undici's dispatcher rather than `fetch` (issue 11, part 2). These tests
// run it against real servers on loopback: what the server receives, timeouts, close(), a caller's dispatcher,
// and msw still intercepting (it patches `fetch`, so the client must notice and use `fetch` then).

const KEY = "knify_test_node_transport";
const job = { id: "job_1", status: "completed", spec: { job_type: "cursor_task", prompt: "Hello" } };

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

interface Loopback {
  url: string;
  seen: Seen[];
  sockets: Set<Socket>;
  closedSockets: () => number;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** A loopback server that records each request and answers with `answer` (by default, the job as JSON). */
async function loopback(
  answer: (request: Seen, response: ServerResponse, index: number) => void = (_, response) => json(response, 200, job),
): Promise<Loopback> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  let closed = 0;
  const server = createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const entry = { method: request.method ?? "", url: request.url ?? "", headers: request.headers, body };
    seen.push(entry);
    answer(entry, response, seen.length - 1);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => {
      closed++;
    });
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, sockets, closedSockets: () => closed };
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "Content-Type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

function problem(response: ServerResponse, status: number, code: string): void {
  json(
    response,
    status,
    { type: "about:blank", title: code, status, code, detail: `${code} detail` },
    { "Content-Type": "application/problem+json", "X-Request-Id": `req_${status}` },
  );
}

/** An undici Agent that records the options of every request dispatched through it. */
class RecordingAgent extends Agent {
  readonly dispatched: Dispatcher.DispatchOptions[] = [];
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.dispatched.push(options);
    return super.dispatch(options, handler);
  }
}

function client(baseURL: string, options: ConstructorParameters<typeof KnifyClient>[1] = {}): KnifyClient {
  return new KnifyClient(KEY, { baseURL, maxRetries: 0, logLevel: "off", ...options });
}

describe("the Node transport", () => {
  it("sends through undici, not fetch: no fetch-only headers reach the server, and JSON comes back typed", async () => {
    const server = await loopback();
    const knify = client(server.url);
    await expect(knify.jobs.get("job_1")).resolves.toEqual(job);
    const [request] = server.seen;
    expect(request?.url).toBe("/jobs/job_1");
    expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request?.headers["user-agent"]).toMatch(/^knify-sdk-typescript\//);
    // Node's fetch adds these to every request; undici's request does not.
    expect(request?.headers["sec-fetch-mode"]).toBeUndefined();
    await knify.close();
  });

  it("sends a POST's JSON body, Content-Type and Idempotency-Key, the same on a retry", async () => {
    const server = await loopback((_, response, index) =>
      index === 0 ? problem(response, 503, "unavailable") : json(response, 201, { job_id: "job_1", status: "pending" }),
    );
    const knify = client(server.url, { maxRetries: 1, sleep: async () => undefined });
    await knify.jobs.create({ job_type: "cursor_task", prompt: "Hello" });
    expect(server.seen).toHaveLength(2);
    const [first, retry] = server.seen as [Seen, Seen];
    expect(first.method).toBe("POST");
    expect(first.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(first.body)).toEqual({ spec: { job_type: "cursor_task", prompt: "Hello" } });
    expect(retry.body).toBe(first.body);
    expect(retry.headers["idempotency-key"]).toBe(first.headers["idempotency-key"]);
    expect(retry.headers["x-knify-retry-count"]).toBe("1");
    await knify.close();
  });

  it("sends multipart uploads with their boundary", async () => {
    const server = await loopback((_, response) =>
      json(response, 201, { id: "ws_1", name: "w", size_bytes: 3, created_at: "2026-12-03T00:00:00Z" }),
    );
    const knify = client(server.url);
    await knify.workspaces.upload({ name: "w", data: new Uint8Array([1, 2, 3]) });
    const [request] = server.seen;
    expect(request?.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    expect(request?.body).toContain('name="workspace"; filename="workspace.tar.gz"');
    await knify.close();
  });

  it("turns error statuses into the same typed errors as before, with the request id", async () => {
    const server = await loopback((request, response) =>
      problem(response, request.url.endsWith("missing") ? 404 : 500, "x"),
    );
    const knify = client(server.url);
    const missing = await knify.jobs.get("missing").catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).requestId).toBe("req_404");
    await expect(knify.jobs.get("broken")).rejects.toBeInstanceOf(InternalServerError);
    await knify.close();
  });

  it("does not follow a redirect: a 3xx is an APIError with its status", async () => {
    const server = await loopback((_, response) => {
      response.writeHead(301, { Location: "https://elsewhere.invalid/jobs/job_1" });
      response.end();
    });
    const error = await client(server.url)
      .jobs.get("job_1")
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(301);
    expect(server.seen).toHaveLength(1);
  });

  it("reports a refused connection as APIConnectionError naming the cause", async () => {
    const server = await loopback();
    const url = server.url;
    servers.splice(0).forEach((each) => {
      each.close();
    });
    const error = await client(url)
      .jobs.get("job_1")
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});

describe("timeout", () => {
  it("times out an attempt whose response headers do not come", async () => {
    const server = await loopback(() => undefined); // never answers
    const knify = client(server.url, { timeout: 200 });
    const error = await knify.jobs.get("job_1").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APITimeoutError);
    expect((error as Error).message).toContain("timed out after 200 ms");
    await knify.close();
  });

  it("times out a JSON body that stops arriving", async () => {
    const server = await loopback((_, response) => {
      response.writeHead(200, { "Content-Type": "application/json", "Content-Length": "1000" });
      response.write('{"id":'); // and nothing more
    });
    const knify = client(server.url, { timeout: 300 });
    await expect(knify.jobs.get("job_1")).rejects.toBeInstanceOf(APITimeoutError);
    await knify.close();
  });

  it("sets undici's header and body timeouts to the client's timeout, above and below undici's 300 s default", async () => {
    const server = await loopback();
    const dispatcher = new RecordingAgent();
    await client(server.url, { dispatcher, timeout: 600_000 }).jobs.get("job_1");
    await client(server.url, { dispatcher, timeout: 5_000 }).jobs.get("job_1", { timeout: 1_234 });
    expect(dispatcher.dispatched.map(({ headersTimeout, bodyTimeout }) => [headersTimeout, bodyTimeout])).toEqual([
      [600_000, 600_000],
      [1_234, 1_234],
    ]);
    await dispatcher.close();
  });
});

describe("dispatcher option", () => {
  it("sends every request through the caller's dispatcher, and close() leaves it open", async () => {
    const server = await loopback();
    const dispatcher = new RecordingAgent({ connections: 1 });
    const knify = client(server.url, { dispatcher });
    await Promise.all([knify.jobs.get("job_1"), knify.jobs.get("job_2"), knify.health()]);
    expect(dispatcher.dispatched.map((options) => options.path).sort()).toEqual(["/", "/jobs/job_1", "/jobs/job_2"]);
    // `connections: 1`: the caller's limit holds, all three went over one socket.
    expect(server.sockets.size).toBe(1);

    await knify.close();
    expect(dispatcher.closed).toBe(false);
    const { statusCode, body } = await dispatcher.request({ origin: server.url, path: "/jobs/job_3", method: "GET" });
    await body.dump();
    expect(statusCode).toBe(200);
    await dispatcher.close();
  });
});

describe("client.close()", () => {
  it("lets requests in flight finish, closes the client's connections, then refuses new calls", async () => {
    let release: () => void = () => undefined;
    const server = await loopback((_, response) => {
      release = () => json(response, 200, job);
    });
    const knify = client(server.url);
    const inFlight = knify.jobs.get("job_1");
    await expect.poll(() => server.seen.length).toBe(1);
    const closing = knify.close();
    release();
    await expect(inFlight).resolves.toEqual(job);
    await closing;
    await expect.poll(() => server.closedSockets()).toBe(server.sockets.size);

    const error = await knify.jobs.get("job_1").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KnifyError);
    expect((error as Error).message).toContain("this client was closed");
    expect(server.seen).toHaveLength(1);
  });

  it("closes the connections of clients made with withOptions too, which share them", async () => {
    const server = await loopback();
    const knify = client(server.url);
    const patient = knify.withOptions({ timeout: 120_000 });
    await Promise.all([knify.jobs.get("job_1"), patient.jobs.get("job_2")]);
    await knify.close();
    await expect(patient.jobs.get("job_3")).rejects.toThrow(/this client was closed/);
    await expect.poll(() => server.closedSockets()).toBe(server.sockets.size);
  });
});

describe("with msw", () => {
  it("goes through fetch while msw intercepts, and back to undici when msw stops", async () => {
    const server = await loopback();
    const knify = client(server.url);
    await knify.jobs.get("job_before");

    const mock = setupServer(
      http.get(`${server.url}/jobs/:id`, ({ params }) => HttpResponse.json({ ...job, id: params.id })),
    );
    mock.listen({ onUnhandledRequest: "error" });
    try {
      await expect(knify.jobs.get("job_mocked")).resolves.toMatchObject({ id: "job_mocked" });
    } finally {
      mock.close();
    }
    await knify.jobs.get("job_after");
    expect(server.seen.map((request) => request.url)).toEqual(["/jobs/job_before", "/jobs/job_after"]);
    await knify.close();
  });

  it("uses a user-supplied fetch, never the dispatcher path", async () => {
    const server = await loopback();
    const calls: string[] = [];
    const knify = client(server.url, {
      fetch: (input, init) => {
        calls.push(String(input));
        return globalThis.fetch(input, init);
      },
    });
    await knify.jobs.get("job_1");
    expect(calls).toEqual([`${server.url}/jobs/job_1`]);
    expect(server.seen[0]?.headers["sec-fetch-mode"]).toBe("cors"); // it really went through fetch
    await knify.close();
  });
});
