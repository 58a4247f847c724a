import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LOG_FLUSH_MS } from "../../server/src/logger.js";
import { startTestServer, type TestServer } from "../support/server.js";

// The bytes the server writes for the core's JSON answers (written with one writeHead, not through Koa's
// setters, issue 11) and the request log's lines (written once per event-loop turn).

const root = join(import.meta.dirname, "..", "..");

/** Sends `request` as raw bytes and resolves with everything the server wrote until it closed the socket. */
function raw(url: string, request: string | Buffer): Promise<{ head: string; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf("\r\n\r\n");
      resolve({ head: all.subarray(0, end).toString("latin1"), body: all.subarray(end + 4) });
    });
  });
}

const headerValues = (head: string, name: string) =>
  head
    .split("\r\n")
    .filter((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((line) => line.slice(name.length + 1).trim());

describe("JSON answers on the wire", () => {
  let server: TestServer;
  let keyId: string;
  beforeAll(async () => {
    server = await startTestServer();
    // A name with non-ASCII characters: the Content-Length is in bytes, not characters.
    const made = await server.key({ name: "clé ✓ 🔑", permissions: ["jobs:read"] });
    keyId = made.id;
  });
  afterAll(() => server.stop());

  const get = (method: string, path: string) =>
    raw(
      server.url,
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.adminKey}\r\nConnection: close\r\n\r\n`,
    );

  it("sends one Content-Length, in bytes, with the type, request id and nosniff", async () => {
    const { head, body } = await get("GET", `/keys/${keyId}`);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(headerValues(head, "content-length")).toEqual([String(body.length)]);
    expect(JSON.parse(body.toString("utf8")).name).toBe("clé ✓ 🔑");
    expect(body.length).toBeGreaterThan(body.toString("utf8").length);
    expect(headerValues(head, "content-type")).toEqual(["application/json; charset=utf-8"]);
    expect(headerValues(head, "x-request-id")[0]).toMatch(/^req_/);
    expect(headerValues(head, "x-content-type-options")).toEqual(["nosniff"]);
    expect(headerValues(head, "x-ratelimit-limit")).toHaveLength(1);
  });

  it("answers HEAD with GET's headers and length, and no body", async () => {
    const got = await get("GET", `/keys/${keyId}`);
    const head = await get("HEAD", `/keys/${keyId}`);
    expect(head.head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(headerValues(head.head, "content-length")).toEqual([String(got.body.length)]);
    expect(headerValues(head.head, "content-type")).toEqual(["application/json; charset=utf-8"]);
    expect(head.body.length).toBe(0);
  });

  it("sends a problem's body with its own length and type, and its headers", async () => {
    const { head, body } = await raw(
      server.url,
      "GET /keys/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    expect(head).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(headerValues(head, "content-length")).toEqual([String(body.length)]);
    expect(headerValues(head, "content-type")).toEqual(["application/problem+json"]);
    expect(headerValues(head, "www-authenticate")).toEqual(['Bearer realm="knify"']);
    expect(JSON.parse(body.toString("utf8")).code).toBe("unauthorized");
  });

  it("closes the connection when it answers before the body has arrived", async () => {
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    // A declared body of 1000 bytes, of which 10 are sent: the 401 comes first, and says the connection ends.
    socket.write(
      'POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"spec":{',
    );
    await new Promise((resolve) => socket.on("close", resolve));
    const text = Buffer.concat(chunks).toString("latin1");
    expect(text).toMatch(/^HTTP\/1\.1 401 /);
    expect(headerValues(text.slice(0, text.indexOf("\r\n\r\n")), "connection")).toEqual(["close"]);
  });
});

describe("the request log", { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), "knify-log-lines-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("writes one whole JSON line per request, also for requests answered in the same turn", async () => {
    const env = { ...process.env, KNIFY_DATA_DIR: dataDir, KNIFY_PORT: "0", KNIFY_LOG_LEVEL: "info" };
    const child = spawn(process.execPath, [join(root, "server", "bin", "knify-server.mjs"), "start"], { env });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", () => {
        const match = /"url":"([^"]+)".*"msg":"listening"/.exec(stdout);
        if (match?.[1]) resolve(match[1]);
      });
      child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${stdout}`)));
    });
    const key = readFileSync(join(dataDir, "bootstrap-admin-key"), "utf8").trim();
    const ids = Array.from({ length: 60 }, (_, i) => `req_log_line_${i}`);
    const statuses = await Promise.all(
      ids.map(async (id, i) => {
        const response = await fetch(`${url}/keys/verify`, {
          headers: { "X-Request-Id": id, ...(i % 3 === 0 ? {} : { Authorization: `Bearer ${key}` }) },
        });
        const body = (await response.json()) as { key_id?: string };
        return { status: response.status, keyId: body.key_id ?? null };
      }),
    );
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    const lines = stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = lines.filter((line) => line.msg === "request");
    expect(requests.map((line) => line.request_id).sort()).toEqual([...ids].sort());
    for (const [i, id] of ids.entries()) {
      const line = requests.find((entry) => entry.request_id === id);
      expect(line).toMatchObject({ method: "GET", path: "/keys/verify", status: statuses[i]?.status, level: 30 });
      // The key that made the request, once authenticated (never the key itself); none for a refused one.
      expect(line?.key_id ?? null).toBe(statuses[i]?.keyId);
    }
    expect(statuses.filter((s) => s.keyId?.startsWith("key_"))).toHaveLength(40);
    expect(lines.at(-1)?.msg).toBe("stopped");
  });

  it("writes the lines still pending when the process exits at once", async () => {
    // process.exit() right after logging: the batch's timer never fires, so the exit hook writes what is pending.
    const script = [
      `import { createLogger } from ${JSON.stringify(join(root, "server", "src", "logger.ts"))};`,
      `const logger = createLogger("info");`,
      `logger.info({ n: 1 }, "first"); logger.warn({ n: 2 }, "second");`,
      `process.exit(3);`,
    ].join("\n");
    const result = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: root,
      },
    ).catch((error: { code: number; stdout: string }) => error);
    expect((result as { code?: number }).code).toBe(3);
    const lines = (result as { stdout: string }).stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => [line.msg, line.n])).toEqual([
      ["first", 1],
      ["second", 2],
    ]);
  });

  it(`writes a batch within ${LOG_FLUSH_MS} ms without waiting for more lines or for the exit, so a SIGKILL loses no older line`, async () => {
    // The process logs, then waits for its stdin; the line must reach stdout while it waits, before the kill.
    const script = [
      `import { createLogger } from ${JSON.stringify(join(root, "server", "src", "logger.ts"))};`,
      `createLogger("info").info({ n: 1 }, "waiting");`,
      `process.stdin.resume();`,
    ].join("\n");
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root });
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    await vi.waitFor(() => expect(stdout).toContain('"msg":"waiting"'), { timeout: 20_000, interval: 10 });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(JSON.parse(stdout.trim())).toMatchObject({ n: 1, msg: "waiting" });
  });
});
