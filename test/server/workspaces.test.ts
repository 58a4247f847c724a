import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { responseValidator } from "@knify/sdk/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Permission } from "../../server/src/auth/permissions.js";
import { ManualClock } from "../../server/src/clock.js";
import { spec } from "../../server/src/spec.js";
import { readArchiveLimits } from "../../server/src/workspaces/limits.js";
import { workspaceFilesDir } from "../../server/src/workspaces/paths.js";
import { rawTarGz } from "../fixtures/archives/raw-tar.js";
import { startTestServer, type TestServer } from "../support/server.js";

const checkResponse = responseValidator(spec as unknown as Parameters<typeof responseValidator>[0]);
const READ_WRITE: Permission[] = ["workspaces:read", "workspaces:write"];

/** A `.tar.gz` made the way Knify documents it: `tar -czf workspace.tar.gz my-dir/`, with the system tar. */
function tarGz(files: Record<string, string>, root = "my-dir"): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "knify-ws-src-"));
  try {
    for (const [path, content] of Object.entries(files)) {
      const file = join(dir, root, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    execFileSync("tar", ["-czf", join(dir, "workspace.tar.gz"), `${root}/`], { cwd: dir });
    return readFileSync(join(dir, "workspace.tar.gz"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every regular file below `dir`, by path relative to it, with its content. */
function filesUnder(dir: string): Record<string, string> {
  const found: Record<string, string> = {};
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else found[relative(dir, path)] = readFileSync(path, "utf8");
    }
  };
  if (existsSync(dir)) walk(dir);
  return found;
}

let unique = 0;
const uniqueName = (base: string) => `${base}-${process.pid}-${++unique}`;

interface UploadOptions {
  name?: string;
  method?: "POST" | "PUT";
  workspaceId?: string;
}

/** Sends a workspace as multipart/form-data, as `curl -F workspace=@ws.tar.gz -F name=…` would. */
async function upload(server: TestServer, apiKey: string, archive: Buffer, options: UploadOptions = {}) {
  const form = new FormData();
  form.append("workspace", new Blob([new Uint8Array(archive)], { type: "application/gzip" }), "workspace.tar.gz");
  if (options.name !== undefined) form.append("name", options.name);
  const method = options.method ?? "POST";
  const path = method === "PUT" ? `/workspaces/${options.workspaceId}` : "/workspaces";
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${apiKey}` },
    body: form,
  });
  const body = (await res.json()) as Record<string, unknown>;
  const operation = method === "PUT" ? "replaceWorkspace" : "createWorkspace";
  expect(checkResponse(operation, res.status, body, res.headers.get("content-type") ?? undefined)).toEqual([]);
  return { res, body };
}

async function call(server: TestServer, apiKey: string, method: string, path: string) {
  const res = await fetch(`${server.url}${path}`, { method, headers: { Authorization: `Bearer ${apiKey}` } });
  const text = await res.text();
  return { res, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

describe("workspaces", () => {
  const clock = new ManualClock(Date.parse("2025-11-17T10:00:00Z"));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ clock });
  });
  afterAll(() => server.stop());

  describe("POST /workspaces", () => {
    it("stores the uploaded tree and answers with the workspace", async () => {
      const name = uniqueName("my-project");
      const { res, body } = await upload(
        server,
        server.adminKey,
        tarGz({ "README.md": "# hello\n", "src/main.py": "print('hi')\n" }),
        { name },
      );
      expect(res.status).toBe(200);
      expect(body).toEqual({
        workspace_id: expect.stringMatching(/^ws_[0-9A-Z]{26}$/),
        name,
        path: `/workspaces/${name}`,
        created_at: "2025-11-17T10:00:00Z",
        updated_at: "2025-11-17T10:00:00Z",
        file_count: 2,
        size_bytes: 8 + 12,
        preset: false,
      });
      const dir = workspaceFilesDir(server.dataDir, String(body.workspace_id));
      expect(filesUnder(dir)).toEqual({ "my-dir/README.md": "# hello\n", "my-dir/src/main.py": "print('hi')\n" });

      const got = await call(server, server.adminKey, "GET", `/workspaces/${body.workspace_id}`);
      expect(got.res.status).toBe(200);
      expect(got.body).toEqual(body);
      expect(checkResponse("getWorkspace", 200, got.body)).toEqual([]);
    });

    it("refuses a name that breaks the spec's WorkspaceName rules, writing nothing", async () => {
      for (const name of ["-starts-with-dash", "has space", "a/b", "x".repeat(65), ""]) {
        const { res, body } = await upload(server, server.adminKey, tarGz({ "a.txt": "a" }), { name });
        expect(res.status, name).toBe(400);
        expect(body.code).toBe("validation_failed");
        expect(body.errors).toEqual([expect.objectContaining({ location: "body", path: "/name" })]);
      }
      expect(readdirSync(join(server.dataDir, "tmp"))).toEqual([]);
    });

    it("refuses an upload without a name", async () => {
      const { res, body } = await upload(server, server.adminKey, tarGz({ "a.txt": "a" }));
      expect(res.status).toBe(400);
      expect(body.code).toBe("validation_failed");
      expect(body.errors).toEqual([expect.objectContaining({ path: "/name" })]);
    });

    it("refuses an upload without the workspace part, naming it", async () => {
      const form = new FormData();
      form.append("name", uniqueName("no-archive"));
      const res = await fetch(`${server.url}/workspaces`, {
        method: "POST",
        headers: { Authorization: `Bearer ${server.adminKey}` },
        body: form,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        code: "validation_failed",
        errors: [{ location: "body", path: "/workspace" }],
      });
    });

    it("answers 409 workspace_exists for a name in use, and keeps the first workspace's files", async () => {
      const name = uniqueName("taken");
      const first = await upload(server, server.adminKey, tarGz({ "one.txt": "1" }), { name });
      expect(first.res.status).toBe(200);
      const second = await upload(server, server.adminKey, tarGz({ "two.txt": "2" }), { name });
      expect(second.res.status).toBe(409);
      expect(second.body.code).toBe("workspace_exists");
      expect(second.body.detail).toContain(`PUT /workspaces/${first.body.workspace_id}`);
      expect(filesUnder(workspaceFilesDir(server.dataDir, String(first.body.workspace_id)))).toEqual({
        "my-dir/one.txt": "1",
      });
    });

    it("refuses an archive entry that climbs out with ../, writing nothing anywhere", async () => {
      const before = filesUnder(server.dataDir);
      const hostile = rawTarGz([
        { path: "fine.txt", data: "fine" },
        { path: "../escaped.txt", data: "pwned" },
      ]);
      const name = uniqueName("hostile");
      const { res, body } = await upload(server, server.adminKey, hostile, { name });
      expect(res.status).toBe(400);
      expect(body.code).toBe("invalid_archive");
      expect(String(body.detail)).toContain("../escaped.txt");
      const after = filesUnder(server.dataDir);
      expect(Object.keys(after).filter((path) => path.includes("escaped") || path.endsWith("fine.txt"))).toEqual([]);
      expect(Object.keys(after).filter((path) => !path.startsWith("knify.db"))).toEqual(
        Object.keys(before).filter((path) => !path.startsWith("knify.db")),
      );
      expect(await server.store.workspaces.getByName(name)).toBeNull();
    });

    it("refuses a key with only workspaces:read (403, naming the permission)", async () => {
      const reader = await server.key({ permissions: ["workspaces:read"] });
      const { res, body } = await upload(server, reader.apiKey, tarGz({ "a.txt": "a" }), { name: uniqueName("ro") });
      expect(res.status).toBe(403);
      expect(body).toMatchObject({ code: "forbidden", missing_permission: "workspaces:write" });
    });
  });

  describe("workspace-scoped keys", () => {
    it("create exactly their own workspace id, once", async () => {
      const scope = `ws_team_${randomBytes(4).toString("hex")}`;
      const team = await server.key({ workspaceId: scope, permissions: READ_WRITE });
      const created = await upload(server, team.apiKey, tarGz({ "a.txt": "a" }), { name: uniqueName("team") });
      expect(created.res.status).toBe(200);
      expect(created.body.workspace_id).toBe(scope);
      expect(filesUnder(workspaceFilesDir(server.dataDir, scope))).toEqual({ "my-dir/a.txt": "a" });

      const again = await upload(server, team.apiKey, tarGz({ "b.txt": "b" }), { name: uniqueName("team") });
      expect(again.res.status).toBe(409);
      expect(again.body.code).toBe("workspace_exists");
      expect(again.body.detail).toContain(`PUT /workspaces/${scope}`);
      expect(filesUnder(workspaceFilesDir(server.dataDir, scope))).toEqual({ "my-dir/a.txt": "a" });
    });

    it("see only their own workspace; others answer 404 and stay untouched", async () => {
      const other = await upload(server, server.adminKey, tarGz({ "secret.txt": "s" }), { name: uniqueName("other") });
      const otherId = String(other.body.workspace_id);
      const scope = `ws_own_${randomBytes(4).toString("hex")}`;
      const team = await server.key({ workspaceId: scope, permissions: READ_WRITE });
      const own = await upload(server, team.apiKey, tarGz({ "mine.txt": "m" }), { name: uniqueName("own") });
      expect(own.res.status).toBe(200);

      const list = await call(server, team.apiKey, "GET", "/workspaces");
      expect(list.res.status).toBe(200);
      expect(list.body).toEqual([own.body]);
      expect(checkResponse("listWorkspaces", 200, list.body)).toEqual([]);

      for (const method of ["GET", "DELETE"]) {
        const hidden = await call(server, team.apiKey, method, `/workspaces/${otherId}`);
        expect(hidden.res.status, method).toBe(404);
        expect((hidden.body as { code: string }).code).toBe("not_found");
      }
      const put = await upload(server, team.apiKey, tarGz({ "x.txt": "x" }), {
        method: "PUT",
        workspaceId: otherId,
      });
      expect(put.res.status).toBe(404);
      expect(filesUnder(workspaceFilesDir(server.dataDir, otherId))).toEqual({ "my-dir/secret.txt": "s" });
    });
  });

  describe("PUT /workspaces/{workspace_id}", () => {
    it("swaps in the new contents and updates updated_at and the counts", async () => {
      const name = uniqueName("replace");
      const created = await upload(server, server.adminKey, tarGz({ "old.txt": "old", "keep/x.txt": "x" }), { name });
      const id = String(created.body.workspace_id);
      clock.advance(60_000);
      const replaced = await upload(server, server.adminKey, tarGz({ "new.txt": "brand new" }, "next"), {
        method: "PUT",
        workspaceId: id,
      });
      expect(replaced.res.status).toBe(200);
      expect(replaced.body).toEqual({
        ...created.body,
        updated_at: new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
        file_count: 1,
        size_bytes: 9,
      });
      expect(replaced.body.updated_at).not.toBe(created.body.created_at);
      expect(filesUnder(workspaceFilesDir(server.dataDir, id))).toEqual({ "next/new.txt": "brand new" });
      // No half-built or set-aside tree is left beside the workspace.
      expect(readdirSync(join(server.dataDir, "workspaces")).filter((n) => n.startsWith("."))).toEqual([]);
    });

    it("keeps the old files and row when the new archive is corrupt", async () => {
      const created = await upload(server, server.adminKey, tarGz({ "stay.txt": "stay" }), {
        name: uniqueName("corrupt"),
      });
      const id = String(created.body.workspace_id);
      const good = tarGz({ "gone.txt": "should not appear".repeat(100) });
      const corrupt = Buffer.concat([good.subarray(0, Math.floor(good.length / 2)), Buffer.from("garbage")]);
      const replaced = await upload(server, server.adminKey, corrupt, { method: "PUT", workspaceId: id });
      expect(replaced.res.status).toBe(400);
      expect(replaced.body.code).toBe("invalid_archive");
      expect(filesUnder(workspaceFilesDir(server.dataDir, id))).toEqual({ "my-dir/stay.txt": "stay" });
      expect((await call(server, server.adminKey, "GET", `/workspaces/${id}`)).body).toEqual(created.body);
      expect(readdirSync(join(server.dataDir, "workspaces")).filter((n) => n.startsWith("."))).toEqual([]);
      expect(readdirSync(join(server.dataDir, "tmp"))).toEqual([]);
    });

    it("refuses a new name (PUT keeps the name)", async () => {
      const created = await upload(server, server.adminKey, tarGz({ "a.txt": "a" }), { name: uniqueName("keep") });
      const replaced = await upload(server, server.adminKey, tarGz({ "b.txt": "b" }), {
        method: "PUT",
        workspaceId: String(created.body.workspace_id),
        name: uniqueName("renamed"),
      });
      expect(replaced.res.status).toBe(400);
      expect(replaced.body.errors).toEqual([expect.objectContaining({ path: "/name" })]);
    });

    it("answers 404 for a workspace that does not exist", async () => {
      const { res, body } = await upload(server, server.adminKey, tarGz({ "a.txt": "a" }), {
        method: "PUT",
        workspaceId: "ws_01JDOESNOTEXIST000000000000",
      });
      expect(res.status).toBe(404);
      expect(body.code).toBe("not_found");
    });
  });

  describe("DELETE /workspaces/{workspace_id}", () => {
    it("deletes the row and the files (204), then answers 404", async () => {
      const created = await upload(server, server.adminKey, tarGz({ "a.txt": "a" }), { name: uniqueName("del") });
      const id = String(created.body.workspace_id);
      const deleted = await call(server, server.adminKey, "DELETE", `/workspaces/${id}`);
      expect(deleted.res.status).toBe(204);
      expect(deleted.body).toBeUndefined();
      expect(existsSync(workspaceFilesDir(server.dataDir, id))).toBe(false);
      expect((await call(server, server.adminKey, "GET", `/workspaces/${id}`)).res.status).toBe(404);
      expect((await call(server, server.adminKey, "DELETE", `/workspaces/${id}`)).res.status).toBe(404);
    });
  });
});

describe("GET /workspaces", () => {
  const clock = new ManualClock(Date.parse("2025-11-17T10:00:00Z"));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ clock });
  });
  afterAll(() => server.stop());

  it("pages newest first by creation time with limit and a Link to the next page", async () => {
    const first = await upload(server, server.adminKey, tarGz({ "a.txt": "a" }), { name: "first" });
    clock.advance(1000);
    // A scoped key's workspace keeps its key's id, which sorts after every ULID: order must come from time.
    const team = await server.key({ workspaceId: "ws_zz_team", permissions: READ_WRITE });
    const second = await upload(server, team.apiKey, tarGz({ "b.txt": "b" }), { name: "second" });
    clock.advance(1000);
    const third = await upload(server, server.adminKey, tarGz({ "c.txt": "c" }), { name: "third" });

    const page1 = await call(server, server.adminKey, "GET", "/workspaces?limit=2");
    expect(page1.res.status).toBe(200);
    expect(page1.body).toEqual([third.body, second.body]);
    expect(checkResponse("listWorkspaces", 200, page1.body)).toEqual([]);
    const link = page1.res.headers.get("link") ?? "";
    const next = /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
    expect(next).toBeDefined();

    const page2 = await fetch(new URL(next ?? "", server.url), {
      headers: { Authorization: `Bearer ${server.adminKey}` },
    });
    expect(page2.status).toBe(200);
    expect(await page2.json()).toEqual([first.body]);
    expect(page2.headers.get("link")).toBeNull();
  });

  it("refuses a cursor it did not issue", async () => {
    const forged = Buffer.from("not a cursor").toString("base64url");
    const { res, body } = await call(server, server.adminKey, "GET", `/workspaces?cursor=${forged}`);
    expect(res.status).toBe(400);
    expect(body).toMatchObject({ code: "validation_failed", errors: [{ location: "query", path: "cursor" }] });
  });
});

describe("archive size caps", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { KNIFY_WORKSPACE_MAX_BYTES: "4096", KNIFY_WORKSPACE_MAX_EXTRACTED_BYTES: "10000" },
    });
  });
  afterAll(() => server.stop());

  it("answers 413 when the files would expand past KNIFY_WORKSPACE_MAX_EXTRACTED_BYTES, writing nothing", async () => {
    const bomb = tarGz({ "zeros.bin": "\0".repeat(200_000) });
    expect(bomb.length).toBeLessThan(4096);
    const { res, body } = await upload(server, server.adminKey, bomb, { name: "bomb" });
    expect(res.status).toBe(413);
    expect(body.code).toBe("payload_too_large");
    expect(readdirSync(join(server.dataDir, "workspaces"))).toEqual([]);
    expect(readdirSync(join(server.dataDir, "tmp"))).toEqual([]);
  });

  it("answers 413 when the archive is over KNIFY_WORKSPACE_MAX_BYTES", async () => {
    const big = tarGz({ "noise.bin": randomBytes(6000).toString("base64") });
    expect(big.length).toBeGreaterThan(4096);
    const { res, body } = await upload(server, server.adminKey, big, { name: "big" });
    expect(res.status).toBe(413);
    expect(body.code).toBe("payload_too_large");
    expect(await server.store.workspaces.getByName("big")).toBeNull();
  });
});

describe("readArchiveLimits", () => {
  it("reads the KNIFY_WORKSPACE_* caps and refuses values that are not positive whole numbers", () => {
    expect(readArchiveLimits({ KNIFY_WORKSPACE_MAX_ENTRIES: "7" })).toMatchObject({
      maxEntries: 7,
      maxCompressedBytes: 100 * 1024 * 1024,
    });
    for (const bad of ["0", "-1", "1.5", "ten", "1e3"]) {
      expect(() => readArchiveLimits({ KNIFY_WORKSPACE_MAX_BYTES: bad }), bad).toThrow(/KNIFY_WORKSPACE_MAX_BYTES/);
    }
  });
});

describe("workspace.updated webhook", () => {
  let server: TestServer;
  let receiver: Server;
  const events: Array<{ type: string; data: unknown }> = [];
  let notify: () => void = () => {};
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        events.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as { type: string; data: unknown });
        res.writeHead(204).end();
        notify();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    server = await startTestServer({ env: { KNIFY_WEBHOOK_ALLOW_PRIVATE: "1" } });
  });
  afterAll(async () => {
    await server.stop();
    await new Promise((resolve) => receiver.close(resolve));
  });

  /** Resolves once `count` events have arrived (the test timeout bounds the wait). */
  const eventsArrived = (count: number) =>
    new Promise<void>((resolve) => {
      notify = () => events.length >= count && resolve();
      notify();
    });

  it("sends the workspace in its API shape after an upload and after a replace", async () => {
    const scope = "ws_hooked";
    const team = await server.key({ workspaceId: scope, permissions: READ_WRITE });
    const { port } = receiver.address() as AddressInfo;
    const endpoint = await fetch(`${server.url}/webhook-endpoints`, {
      method: "POST",
      headers: { Authorization: `Bearer ${team.apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ url: `http://127.0.0.1:${port}/hook`, event_types: ["workspace.updated"] }),
    });
    expect(endpoint.status).toBe(200);

    const created = await upload(server, team.apiKey, tarGz({ "a.txt": "a" }), { name: "hooked" });
    await eventsArrived(1);
    expect(events[0]).toMatchObject({ type: "workspace.updated", data: created.body });

    const replaced = await upload(server, team.apiKey, tarGz({ "b.txt": "bb" }), { method: "PUT", workspaceId: scope });
    await eventsArrived(2);
    expect(events[1]).toMatchObject({ type: "workspace.updated", data: replaced.body });
  });
});
