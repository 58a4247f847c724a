import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { APITimeoutError, APIUserAbortError, JobFailedError, KnifyClient, KnifyError } from "@knify/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeTime, job, json, scriptedFetch, testOptions } from "./support/scripted-fetch.js";

type Call = (client: KnifyClient) => Promise<unknown>;

// One row per operation: the call, the HTTP method and path it must produce, and the JSON body it must send.
const operations: [string, Call, string, string, unknown][] = [
  ["health", (c) => c.health(), "GET", "/", undefined],
  [
    "jobs.create",
    (c) => c.jobs.create({ job_type: "cursor_task", prompt: "Hi" }),
    "POST",
    "/jobs",
    { spec: { job_type: "cursor_task", prompt: "Hi" } },
  ],
  ["jobs.list", (c) => c.jobs.list({ status: "running", limit: 5 }), "GET", "/jobs?status=running&limit=5", undefined],
  ["jobs.get", (c) => c.jobs.get("job_1"), "GET", "/jobs/job_1", undefined],
  ["jobs.events", (c) => c.jobs.events("job_1", { after: 3 }), "GET", "/jobs/job_1/events?after=3", undefined],
  [
    "jobs.continue",
    (c) => c.jobs.continue("job_1", { prompt: "More" }),
    "POST",
    "/jobs/job_1/continue",
    { spec: { prompt: "More" } },
  ],
  ["jobs.cleanup", (c) => c.jobs.cleanup("job_1"), "POST", "/jobs/job_1/cleanup", undefined],
  ["jobs.cancel", (c) => c.jobs.cancel("job_1"), "POST", "/jobs/job_1/cancel", undefined],
  ["jobs.changes", (c) => c.jobs.changes("job_1"), "GET", "/jobs/job_1/changes", undefined],
  [
    "jobs.continue with the docs' job_type",
    (c) => c.jobs.continue("job_1", { job_type: "cursor_task", prompt: "More" }),
    "POST",
    "/jobs/job_1/continue",
    { spec: { job_type: "cursor_task", prompt: "More" } },
  ],
  [
    "keys.create",
    (c) => c.keys.create({ name: "CI", permissions: ["jobs:read"] }),
    "POST",
    "/keys",
    { name: "CI", permissions: ["jobs:read"] },
  ],
  ["keys.list", (c) => c.keys.list(), "GET", "/keys", undefined],
  ["keys.get", (c) => c.keys.get("key_1"), "GET", "/keys/key_1", undefined],
  ["keys.revoke", (c) => c.keys.revoke("key_1"), "DELETE", "/keys/key_1", undefined],
  ["keys.verify", (c) => c.keys.verify(), "GET", "/keys/verify", undefined],
  ["keys.usage", (c) => c.keys.usage("key_1"), "GET", "/keys/key_1/usage", undefined],
  [
    "keys.rotate",
    (c) => c.keys.rotate("key_1", { grace_period_seconds: 60 }),
    "POST",
    "/keys/key_1/rotate",
    { grace_period_seconds: 60 },
  ],
  ["keys.rotate (no body)", (c) => c.keys.rotate("key_1"), "POST", "/keys/key_1/rotate", undefined],
  ["workspaces.list", (c) => c.workspaces.list({ limit: 10 }), "GET", "/workspaces?limit=10", undefined],
  ["workspaces.get", (c) => c.workspaces.get("ws_1"), "GET", "/workspaces/ws_1", undefined],
  ["workspaces.delete", (c) => c.workspaces.delete("ws_1"), "DELETE", "/workspaces/ws_1", undefined],
  [
    "webhookEndpoints.create",
    (c) => c.webhookEndpoints.create({ url: "https://h.example/k", event_types: ["job.failed"] }),
    "POST",
    "/webhook-endpoints",
    { url: "https://h.example/k", event_types: ["job.failed"] },
  ],
  ["webhookEndpoints.list", (c) => c.webhookEndpoints.list(), "GET", "/webhook-endpoints", undefined],
  ["webhookEndpoints.get", (c) => c.webhookEndpoints.get("we_1"), "GET", "/webhook-endpoints/we_1", undefined],
  ["webhookEndpoints.delete", (c) => c.webhookEndpoints.delete("we_1"), "DELETE", "/webhook-endpoints/we_1", undefined],
  ["webhookEndpoints.test", (c) => c.webhookEndpoints.test("we_1"), "POST", "/webhook-endpoints/we_1/test", undefined],
  [
    "webhookEndpoints.deliveries",
    (c) => c.webhookEndpoints.deliveries("we_1", { limit: 3 }),
    "GET",
    "/webhook-endpoints/we_1/deliveries?limit=3",
    undefined,
  ],
  [
    "webhookEndpoints.redeliver",
    (c) => c.webhookEndpoints.redeliver("we_1", "dlv_1"),
    "POST",
    "/webhook-endpoints/we_1/deliveries/dlv_1/redeliver",
    undefined,
  ],
];

describe("one method, one operation", () => {
  it.each(operations)("%s sends %s %s", async (_name, call, method, path, body) => {
    const { fetch, seen } = scriptedFetch(json({ echoed: true }));
    const data = await call(new KnifyClient(testOptions(fetch)));
    expect(data).toEqual({ echoed: true });
    const request = seen[0];
    expect(request?.method).toBe(method);
    expect(`${request?.url.pathname}${request?.url.search}`).toBe(path);
    expect(request?.body ? JSON.parse(request.body) : undefined).toEqual(body);
  });

  it("a 204 resolves to undefined", async () => {
    const { fetch } = scriptedFetch(new Response(null, { status: 204 }));
    await expect(new KnifyClient(testOptions(fetch)).workspaces.delete("ws_1")).resolves.toBeUndefined();
  });
});

describe("jobs.archive", () => {
  it("gives the body as a stream, unparsed, and extractTo unpacks it into a directory", async () => {
    const { create } = await import("tar");
    const src = await mkdtemp(join(tmpdir(), "knify-archive-src-"));
    await mkdir(join(src, "out"));
    await writeFile(join(src, "out", "report.md"), "# report\n");
    const chunks: Uint8Array[] = [];
    for await (const chunk of create({ gzip: true, cwd: src, portable: true }, ["out"]))
      chunks.push(chunk as Uint8Array);
    const bytes = Buffer.concat(chunks);
    const archive = () => new Response(bytes, { headers: { "content-type": "application/gzip" } });
    const { fetch, seen } = scriptedFetch(archive(), archive());
    const client = new KnifyClient(testOptions(fetch));

    const stream = await client.jobs.archive("job_1");
    expect(stream).toBeInstanceOf(ReadableStream);
    expect(Buffer.from(await new Response(stream).arrayBuffer())).toEqual(bytes);
    expect(seen[0]?.url.pathname).toBe("/jobs/job_1/archive");

    const dest = join(await mkdtemp(join(tmpdir(), "knify-archive-dest-")), "new", "dir");
    await client.jobs.archive.extractTo("job_1", dest);
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(join(dest, "out", "report.md"), "utf8")).toBe("# report\n");
  });
});

describe("workspaces.upload", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "knify-ws-"));
    await mkdir(join(dir, "src"));
    await writeFile(join(dir, "src", "index.ts"), "export const x = 1;\n");
    await writeFile(join(dir, "README.md"), "# demo\n");
    await mkdir(join(dir, "node_modules"));
    await writeFile(join(dir, "node_modules", "big.js"), "ignored");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The multipart parts of a recorded request. */
  async function parts(request: Request) {
    const form = await request.clone().formData();
    const file = form.get("workspace") as File;
    return { name: form.get("name"), file, bytes: new Uint8Array(await file.arrayBuffer()) };
  }

  /** The entry names of a .tar.gz, read from the ustar headers. */
  function tarEntries(gzip: Uint8Array): string[] {
    const tar = gunzipSync(gzip);
    const names: string[] = [];
    for (let offset = 0; offset + 512 <= tar.length; ) {
      const header = tar.subarray(offset, offset + 512);
      const name = header.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
      if (!name) break;
      const prefix = header.subarray(345, 500).toString("utf8").replace(/\0.*$/s, "");
      names.push(prefix ? `${prefix}/${name}` : name);
      const size = Number.parseInt(header.subarray(124, 136).toString("utf8").replace(/\0.*$/s, "").trim() || "0", 8);
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    return names;
  }

  it("archives a directory itself, with paths relative to it, and posts it as multipart", async () => {
    const { fetch, seen } = scriptedFetch(json({ workspace_id: "ws_1", name: "demo", path: "/workspaces/demo" }));
    const client = new KnifyClient(testOptions(fetch));
    const ws = await client.workspaces.upload({
      name: "demo",
      path: dir,
      filter: (p) => !p.startsWith("node_modules"),
    });
    expect(ws.path).toBe("/workspaces/demo");
    const request = seen[0];
    expect(request?.method).toBe("POST");
    expect(request?.url.pathname).toBe("/workspaces");
    expect(request?.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    expect(request?.headers.get("idempotency-key")).toMatch(/^knify-retry-/);
    const { name, file, bytes } = await parts(request?.request as Request);
    expect(name).toBe("demo");
    expect(file.name).toBe("workspace.tar.gz");
    expect(file.type).toBe("application/gzip");
    expect(tarEntries(bytes).sort()).toEqual(["README.md", "src/", "src/index.ts"]);
  });

  it("sends the same archive again on a retry", async () => {
    const { fetch, seen } = scriptedFetch(new TypeError("fetch failed"), json({ workspace_id: "ws_1" }));
    const client = new KnifyClient(testOptions(fetch));
    await client.workspaces.upload({ name: "demo", path: dir });
    expect(seen).toHaveLength(2);
    expect(seen[1]?.body).toBe(seen[0]?.body);
  });

  it.each([
    ["Uint8Array", () => new Uint8Array([31, 139, 8, 0])],
    ["Buffer", () => Buffer.from([31, 139, 8, 0])],
    ["Blob", () => new Blob([new Uint8Array([31, 139, 8, 0])])],
    ["ReadableStream", () => new Blob([new Uint8Array([31, 139, 8, 0])]).stream()],
  ])("takes a ready archive as a %s", async (_kind, data) => {
    const { fetch, seen } = scriptedFetch(json({ workspace_id: "ws_1" }));
    const client = new KnifyClient(testOptions(fetch));
    await client.workspaces.upload({ name: "demo", data: data() });
    const { bytes, file } = await parts(seen[0]?.request as Request);
    expect([...bytes]).toEqual([31, 139, 8, 0]);
    expect(file.type).toBe("application/gzip");
  });

  it("replace PUTs only the archive", async () => {
    const { fetch, seen } = scriptedFetch(json({ workspace_id: "ws_1" }));
    const client = new KnifyClient(testOptions(fetch));
    await client.workspaces.replace("ws_1", { path: dir });
    const request = seen[0];
    expect(request?.method).toBe("PUT");
    expect(request?.url.pathname).toBe("/workspaces/ws_1");
    const { name, bytes } = await parts(request?.request as Request);
    expect(name).toBeNull();
    expect(tarEntries(bytes)).toContain("src/index.ts");
  });

  it("says clearly when the path is not a directory or is empty", async () => {
    const { fetch, seen } = scriptedFetch();
    const client = new KnifyClient(testOptions(fetch));
    await expect(client.workspaces.upload({ name: "x", path: join(dir, "README.md") })).rejects.toThrow(
      /is not a directory/,
    );
    await expect(client.workspaces.upload({ name: "x", path: join(dir, "missing") })).rejects.toThrow(KnifyError);
    const empty = await mkdtemp(join(tmpdir(), "knify-empty-"));
    await expect(client.workspaces.upload({ name: "x", path: empty })).rejects.toThrow(/is empty/);
    await rm(empty, { recursive: true });
    expect(seen).toHaveLength(0);
  });
});

describe("jobs.waitFor", () => {
  it("polls until completed, reports each status once, and returns the job", async () => {
    const { fetch, seen } = scriptedFetch(
      json(job("pending")),
      json(job("running")),
      json(job("running")),
      json(job("completed")),
    );
    const time = fakeTime();
    const client = new KnifyClient(testOptions(fetch, { clock: time.clock, sleep: time.sleep }));
    const statuses: string[] = [];
    const done = await client.jobs.waitFor("job_1", {
      follow: "poll",
      pollInterval: 500,
      onStatus: (status) => statuses.push(status),
    });
    expect(done.status).toBe("completed");
    expect(statuses).toEqual(["pending", "running", "completed"]);
    expect(time.sleeps).toEqual([500, 500, 500]);
    expect(seen.every((r) => r.url.pathname === "/jobs/job_1")).toBe(true);
  });

  it("polls a short job soon: after 100 ms, then twice as long each time up to 2 s", async () => {
    const { fetch } = scriptedFetch(...Array.from({ length: 7 }, () => json(job("running"))), json(job("completed")));
    const time = fakeTime();
    const client = new KnifyClient(testOptions(fetch, { clock: time.clock, sleep: time.sleep }));
    await expect(client.jobs.waitFor("job_1", { follow: "poll" })).resolves.toMatchObject({ status: "completed" });
    expect(time.sleeps).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it("throws JobFailedError when the job fails", async () => {
    const { fetch } = scriptedFetch(
      json(job("running")),
      json(job("failed", { error: { code: "timed_out", message: "model unavailable" } })),
    );
    const client = new KnifyClient(testOptions(fetch));
    await expect(client.jobs.waitFor("job_1", { follow: "poll" })).rejects.toMatchObject({
      name: "JobFailedError",
      error: { code: "timed_out", message: "model unavailable" },
    });
  });

  it("keeps waiting through a status newer than this SDK", async () => {
    const { fetch } = scriptedFetch(json(job("queued_for_gpu")), json(job("completed")));
    const client = new KnifyClient(testOptions(fetch));
    await expect(client.jobs.waitFor("job_1", { follow: "poll" })).resolves.toMatchObject({ status: "completed" });
  });

  it("gives up with APITimeoutError after its timeout, without sleeping past it", async () => {
    const { fetch, seen } = scriptedFetch(...Array.from({ length: 4 }, () => json(job("running"))));
    const time = fakeTime();
    const client = new KnifyClient(testOptions(fetch, { clock: time.clock, sleep: time.sleep }));
    const error = await client.jobs
      .waitFor("job_1", { follow: "poll", timeout: 2500, pollInterval: 1000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APITimeoutError);
    expect((error as Error).message).toContain("still running after 2500 ms");
    expect(time.sleeps).toEqual([1000, 1000, 500]);
    expect(seen).toHaveLength(4);
  });

  it("stops when its signal aborts", async () => {
    const controller = new AbortController();
    const { fetch } = scriptedFetch(json(job("running")));
    const sleep = async (_ms: number, signal?: AbortSignal) => {
      controller.abort();
      if (signal?.aborted) throw signal.reason;
    };
    const client = new KnifyClient(testOptions(fetch, { sleep }));
    await expect(client.jobs.waitFor("job_1", { follow: "poll", signal: controller.signal })).rejects.toBeInstanceOf(
      APIUserAbortError,
    );
  });
});

describe("jobs.createAndWait", () => {
  it("creates the job, then waits for it", async () => {
    const { fetch, seen } = scriptedFetch(json({ job_id: "job_1", status: "pending" }), json(job("completed")));
    const client = new KnifyClient(testOptions(fetch));
    const done = await client.jobs.createAndWait({ job_type: "cursor_task", prompt: "Hi" }, { idempotencyKey: "once" });
    expect(done.status).toBe("completed");
    expect(seen.map((r) => `${r.method} ${r.url.pathname}`)).toEqual(["POST /jobs", "GET /jobs/job_1"]);
    expect(seen[0]?.headers.get("idempotency-key")).toBe("once");
  });

  it("sees a short job done soon: the first poll after creating waits 100 ms, not 2 s", async () => {
    const { fetch } = scriptedFetch(
      json({ job_id: "job_1", status: "pending" }),
      json(job("running")),
      json(job("running")),
      json(job("completed")),
    );
    const time = fakeTime();
    const client = new KnifyClient(testOptions(fetch, { clock: time.clock, sleep: time.sleep }));
    await expect(
      client.jobs.createAndWait({ job_type: "cursor_task", prompt: "Hi" }, { follow: "poll" }),
    ).resolves.toMatchObject({ status: "completed" });
    expect(time.sleeps).toEqual([100, 200]);
  });

  it("throws JobFailedError for a failed job", async () => {
    const { fetch } = scriptedFetch(
      json({ job_id: "job_1", status: "pending" }),
      json(job("failed", { error: { code: "agent_failed", message: "boom" } })),
    );
    const client = new KnifyClient(testOptions(fetch));
    await expect(client.jobs.createAndWait({ job_type: "cursor_task", prompt: "Hi" })).rejects.toBeInstanceOf(
      JobFailedError,
    );
  });
});
