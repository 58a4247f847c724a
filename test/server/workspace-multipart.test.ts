import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { flatHeaders, nodeRequestBody } from "../../server/src/koa/app.js";
import { ArchiveError } from "../../server/src/workspaces/archive-error.js";
import { extractArchive } from "../../server/src/workspaces/extract.js";
import { type ParseWorkspaceUploadOptions, parseWorkspaceUpload } from "../../server/src/workspaces/multipart.js";
import { rawTarGz } from "../fixtures/archives/raw-tar.js";

/** What the server saw for one request: the parsed upload (read back before cleanup) or the refusal. */
type Outcome =
  | { ok: true; name: string | undefined; archiveBytes: number; sha256: string; extracted: string[] }
  | { ok: false; error: unknown };

let work: string;
let tmpDir: string;
let options: ParseWorkspaceUploadOptions;
let lastOutcome: Promise<Outcome> | undefined;
let server: Server;
let port: number;

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

beforeAll(async () => {
  // A real loopback server whose handler does what a route would: parse, use the archive, clean up, answer.
  server = createServer((req, res) => {
    // `x-parse-after-close` plays a route that was busy (auth, lookups) while the client went away.
    const ready = req.headers["x-parse-after-close"]
      ? new Promise((resolve) => req.on("error", () => undefined).once("close", resolve))
      : Promise.resolve();
    const outcome: Promise<Outcome> = ready
      .then(() => parseWorkspaceUpload({ headers: flatHeaders(req.headers), body: nodeRequestBody(req) }, options))
      .then(
        async (upload) => {
          try {
            const dest = join(work, `dest-${Date.now()}-${Math.random()}`);
            await extractArchive(upload.archivePath, dest);
            return {
              ok: true as const,
              name: upload.name,
              archiveBytes: upload.archiveBytes,
              sha256: sha256(await readFile(upload.archivePath)),
              extracted: await readdir(dest),
            };
          } finally {
            await upload.cleanup();
          }
        },
        (error: unknown) => ({ ok: false as const, error }),
      );
    lastOutcome = outcome;
    void outcome.then((result) => {
      if (res.destroyed) return;
      if (result.ok) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(result));
        return;
      }
      const error = result.error as Partial<ArchiveError>;
      res.writeHead(error.status ?? 500, { "content-type": "application/json", connection: "close" });
      res.end(JSON.stringify({ code: error.code, message: (result.error as Error).message }));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "knify-multipart-"));
  tmpDir = join(work, "uploads");
  options = { tmpDir, requireName: true };
  lastOutcome = undefined;
});

afterEach(async () => {
  // Whatever happened, the temp archive is gone once the server has settled.
  await lastOutcome;
  expect(await readdir(tmpDir).catch(() => [])).toEqual([]);
  await rm(work, { recursive: true, force: true });
});

type Part = [name: string, value: string | { data: Buffer; filename: string }];

/** Serialises parts the way a browser or the SDK would: FormData through a real Request. */
async function multipart(parts: Part[]): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === "string") form.append(name, value);
    else form.append(name, new Blob([value.data], { type: "application/gzip" }), value.filename);
  }
  const serialised = new Request("http://127.0.0.1/", { method: "POST", body: form });
  return {
    body: Buffer.from(await serialised.arrayBuffer()),
    contentType: serialised.headers.get("content-type") ?? "",
  };
}

interface Reply {
  status: number;
  json: Record<string, unknown>;
}

/** Sends a body over a real socket; `chunked` leaves out Content-Length. */
async function send(body: Buffer, contentType: string | undefined, mode: { chunked?: boolean } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (contentType !== undefined) headers["content-type"] = contentType;
  if (!mode.chunked) headers["content-length"] = String(body.length);
  const req = request({ host: "127.0.0.1", port, method: "POST", path: "/workspaces", headers });
  req.end(body);
  const [res] = (await once(req, "response")) as [import("node:http").IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
}

const archive = rawTarGz([
  { path: "my-project/", type: "5" },
  { path: "my-project/README.md", data: "# hi\n" },
]);
const workspacePart = (data: Buffer = archive): Part => ["workspace", { data, filename: "ws.tar.gz" }];

describe("parseWorkspaceUpload", () => {
  it("streams the workspace part to a temp file and returns the name", async () => {
    const { body, contentType } = await multipart([["name", "my-project"], workspacePart()]);
    const reply = await send(body, contentType);
    expect(reply).toEqual({
      status: 200,
      json: {
        ok: true,
        name: "my-project",
        archiveBytes: archive.length,
        sha256: sha256(archive),
        extracted: ["my-project"],
      },
    });
  });

  it("accepts the parts in either order, and a chunked body", async () => {
    const { body, contentType } = await multipart([workspacePart(), ["name", "ws.1_b-2"]]);
    const reply = await send(body, contentType, { chunked: true });
    expect(reply.status).toBe(200);
    expect(reply.json.name).toBe("ws.1_b-2");
  });

  it("lets a replacement leave out the name", async () => {
    options = { tmpDir, requireName: false };
    const { body, contentType } = await multipart([workspacePart()]);
    const reply = await send(body, contentType);
    expect(reply.status).toBe(200);
    expect(reply.json.name).toBeUndefined();
    expect(reply.json.archiveBytes).toBe(archive.length);
  });

  it.each<[string, Part[], RegExp]>([
    ["a missing workspace part", [["name", "my-project"]], /the `workspace` part is missing/],
    ["a missing name part", [workspacePart()], /the `name` part is missing/],
    ["an unknown text field", [["name", "p"], ["extra", "1"], workspacePart()], /unknown part "extra"/],
    ["an unknown file part", [["file", { data: archive, filename: "ws.tar.gz" }]], /unknown part "file"/],
    ["a workspace sent as text", [["workspace", "not a file"]], /part `workspace` must be a file part/],
    ["a name sent as a file", [["name", { data: Buffer.from("x"), filename: "n" }]], /`name` must be a text field/],
    ["two workspace parts", [workspacePart(), workspacePart()], /more than one `workspace` part/],
    ["two name fields", [["name", "a"], ["name", "b"], workspacePart()], /more than one `name` part/],
    ["a name with a slash", [["name", "../etc"], workspacePart()], /name "\.\.\/etc" is not allowed/],
    ["a name over 64 bytes", [["name", "n".repeat(65)], workspacePart()], /longer than 64 bytes/],
  ])("refuses %s with 400 validation_failed", async (_, parts, message) => {
    const { body, contentType } = await multipart(parts);
    const reply = await send(body, contentType);
    expect(reply.status).toBe(400);
    expect(reply.json.code).toBe("validation_failed");
    expect(reply.json.message).toMatch(message);
  });

  it("accepts a name of exactly 64 bytes", async () => {
    const { body, contentType } = await multipart([["name", "n".repeat(64)], workspacePart()]);
    expect((await send(body, contentType)).json.name).toBe("n".repeat(64));
  });

  it("accepts an archive of exactly maxCompressedBytes and refuses one byte more with 413", async () => {
    options = { tmpDir, requireName: false, limits: { maxCompressedBytes: archive.length } };
    const exact = await multipart([workspacePart()]);
    expect((await send(exact.body, exact.contentType)).status).toBe(200);

    options = { tmpDir, requireName: false, limits: { maxCompressedBytes: archive.length - 1 } };
    const over = await multipart([workspacePart()]);
    const reply = await send(over.body, over.contentType, { chunked: true });
    expect(reply.status).toBe(413);
    expect(reply.json).toEqual({
      code: "payload_too_large",
      message: `the workspace archive is over the limit of ${archive.length - 1} bytes`,
    });
  });

  it("refuses a body whose Content-Length is over the cap before reading it", async () => {
    options = { tmpDir, requireName: true, limits: { maxCompressedBytes: 1000 } };
    const { body, contentType } = await multipart([["name", "big"], workspacePart(randomBytes(200_000))]);
    const reply = await send(body, contentType);
    expect(reply.status).toBe(413);
    expect(reply.json.code).toBe("payload_too_large");
    const outcome = await lastOutcome;
    expect(outcome?.ok).toBe(false);
  });

  it.each<[string, string | undefined]>([
    ["application/json", "application/json"],
    ["a urlencoded form", "application/x-www-form-urlencoded"],
    ["multipart without a boundary", "multipart/form-data"],
    ["no Content-Type", undefined],
  ])("refuses %s with 415", async (_, contentType) => {
    const { body } = await multipart([["name", "p"], workspacePart()]);
    const reply = await send(body, contentType);
    expect(reply.status).toBe(415);
    expect(reply.json.code).toBe("unsupported_media_type");
  });

  it("refuses a body cut before its closing boundary", async () => {
    const { body, contentType } = await multipart([["name", "p"], workspacePart(randomBytes(50_000))]);
    const reply = await send(body.subarray(0, 30_000), contentType);
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      code: "validation_failed",
      message: "the multipart body is malformed: Unexpected end of form",
    });
  });

  it("rejects, instead of hanging, when the client goes away mid-upload", async () => {
    const { body, contentType } = await multipart([["name", "p"], workspacePart(randomBytes(100_000))]);
    const req = request({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/workspaces",
      headers: { "content-type": contentType, "content-length": String(body.length) },
    });
    req.on("error", () => {}); // the socket is destroyed on purpose
    req.write(body.subarray(0, 40_000));
    await waitFor(() => lastOutcome !== undefined);
    req.destroy();
    const outcome = await lastOutcome;
    expect(outcome?.ok).toBe(false);
    const error = (outcome as { error: ArchiveError }).error;
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^the client closed the connection before the upload finished/);
  });
});

describe("parseWorkspaceUpload after the client left", () => {
  it("rejects at once when the request was already aborted before parsing began", async () => {
    const { body, contentType } = await multipart([["name", "p"], workspacePart(randomBytes(100_000))]);
    const req = request({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/workspaces",
      headers: { "content-type": contentType, "content-length": String(body.length), "x-parse-after-close": "1" },
    });
    req.on("error", () => {});
    req.write(body.subarray(0, 10_000));
    await waitFor(() => lastOutcome !== undefined);
    req.destroy();
    const outcome = await lastOutcome;
    expect((outcome as { error: Error }).error.message).toBe(
      "the client closed the connection before the upload finished",
    );
  });
});

/** Yields to the event loop until `ready()` holds (the server sees the request some ticks after it is sent). */
async function waitFor(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
}
