import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { ConflictError, GoneError, type Job, KnifyClient, NotFoundError } from "@knify/sdk";
import { list } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxDir } from "../../server/src/jobs/sandbox-paths.js";
import { jobProcesses } from "../support/processes.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { until } from "../support/until.js";

// What the agent left (archive, changes) and cancel, with a real agent process (test/fixtures/agents/fake-agent.mjs).

const AGENT = fileURLToPath(new URL("../fixtures/agents/fake-agent.mjs", import.meta.url));
const wait = { pollInterval: 20, timeout: 20_000 };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** A project directory for a workspace upload. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "knify-sandbox-"));
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "README.md"), "# project\n");
  writeFileSync(join(dir, "src", "main.ts"), "console.log('hi');\n");
  writeFileSync(join(dir, "old.log"), "to be deleted\n");
  return dir;
}

/** The entries of a `.tar.gz` body: path and type. */
async function entries(body: ReadableStream<Uint8Array>): Promise<{ path: string; type: string }[]> {
  const found: { path: string; type: string }[] = [];
  await pipeline(
    Readable.fromWeb(body as Parameters<typeof Readable.fromWeb>[0]),
    list({ onReadEntry: (entry) => found.push({ path: entry.path, type: entry.type }) }),
  );
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

describe("what the agent left, and cancel (command runner)", () => {
  let server: TestServer;
  let admin: KnifyClient;
  let unique = 0;

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        KNIFY_RATE_LIMIT_LIVE: "100000",
        KNIFY_RUNNER: "command",
        KNIFY_AGENT_COMMAND: `exec '${process.execPath}' '${AGENT}' "$1"`,
        // The turns run jailed: the fake agent's folder is mounted read-only so the jail can run it.
        KNIFY_SANDBOX_READONLY_PATHS: dirname(AGENT),
        KNIFY_MAX_CONCURRENT_JOBS: "1",
      },
    });
    admin = new KnifyClient(server.adminKey, { baseURL: server.url, maxRetries: 0, logLevel: "off" });
  });
  afterAll(() => server.stop());

  /** A workspace-scoped key with a workspace uploaded from `project()`, and a job that ran `prompt` in it. */
  async function jobInWorkspace(prompt: string) {
    const workspaceId = `ws_sandbox_${process.pid}_${++unique}`;
    const key = await server.key({
      workspaceId,
      permissions: ["jobs:create", "jobs:read", "jobs:cleanup", "workspaces:write"],
    });
    const client = new KnifyClient(key.apiKey, { baseURL: server.url, maxRetries: 0, logLevel: "off" });
    const workspace = await client.workspaces.upload({ name: `sandbox-${process.pid}-${unique}`, path: project() });
    const job = await client.jobs.createAndWait(
      { job_type: "cursor_task", prompt, workspace_path: workspace.path },
      wait,
    );
    return { client, workspaceId, job };
  }

  describe("GET /jobs/{job_id}/changes", () => {
    it("lists what the agent added, modified and deleted, against the files it started from", async () => {
      const { client, job } = await jobInWorkspace(
        "mkdir:reports;write:reports/summary.md;append:README.md;rm:old.log;link:README.md=readme-link",
      );
      const changes = await client.jobs.changes(job.id);
      expect(changes).toEqual([
        { path: "README.md", change: "modified", size: "# project\n".length + "appended by the fake agent\n".length },
        { path: "old.log", change: "deleted", size: "to be deleted\n".length },
        { path: "readme-link", change: "added", size: "README.md".length },
        { path: "reports/summary.md", change: "added", size: "written by the fake agent\n".length },
      ]);
    });

    it("is empty for a turn that changed nothing, and sees a file rewritten with the same size", async () => {
      const { client, job } = await jobInWorkspace("say:nothing to do");
      expect(await client.jobs.changes(job.id)).toEqual([]);
      // Same size, new content, new mtime: only the hash can tell.
      writeFileSync(join(sandboxDir(server.dataDir, job.sandbox_id ?? ""), "README.md"), "# PROJECT\n");
      expect(await client.jobs.changes(job.id)).toEqual([{ path: "README.md", change: "modified", size: 10 }]);
    });
  });

  describe("GET /jobs/{job_id}/archive", () => {
    it("streams the sandbox as a .tar.gz with relative paths, keeping links as links", async () => {
      const { client, job } = await jobInWorkspace("write:notes.md;link:/etc/passwd=escape");
      const { data, response } = await client.jobs.archive(job.id).withResponse();
      expect(response.headers.get("content-type")).toBe("application/gzip");
      expect(response.headers.get("content-disposition")).toBe(`attachment; filename="${job.id}.tar.gz"`);
      expect(await entries(data)).toEqual([
        { path: "README.md", type: "File" },
        { path: "escape", type: "SymbolicLink" },
        { path: "notes.md", type: "File" },
        { path: "old.log", type: "File" },
        { path: "src/", type: "Directory" },
        { path: "src/main.ts", type: "File" },
      ]);
    });

    it("extracts into a directory with jobs.archive.extractTo", async () => {
      const { client, job } = await jobInWorkspace("mkdir:out;write:out/result.txt;link:/etc/passwd=escape");
      const dir = join(mkdtempSync(join(tmpdir(), "knify-extract-")), "here");
      await client.jobs.archive.extractTo(job.id, dir);
      expect(readFileSync(join(dir, "out", "result.txt"), "utf8")).toBe("written by the fake agent\n");
      expect(readFileSync(join(dir, "src", "main.ts"), "utf8")).toBe("console.log('hi');\n");
      // The link came back as a link (its target was never read into the archive), made relative by the
      // extraction so that it cannot point out of `dir`.
      expect(lstatSync(join(dir, "escape")).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dir, "escape"))).toBe("etc/passwd");
    });

    it("answers 410 job_cleaned_up after a cleanup, and 404 to a key of another workspace", async () => {
      const { client, job } = await jobInWorkspace("say:done");
      const other = await server.key({ workspaceId: `ws_other_${process.pid}`, permissions: ["jobs:read"] });
      const stranger = new KnifyClient(other.apiKey, { baseURL: server.url, maxRetries: 0, logLevel: "off" });
      await expect(stranger.jobs.archive(job.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(stranger.jobs.changes(job.id)).rejects.toBeInstanceOf(NotFoundError);

      await client.jobs.cleanup(job.id);
      for (const call of [client.jobs.archive(job.id), client.jobs.changes(job.id)]) {
        const error = await call.then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(GoneError);
        expect((error as GoneError).status).toBe(410);
        expect((error as GoneError).code).toBe("job_cleaned_up");
      }
    });
  });

  describe("POST /jobs/{job_id}/cancel", () => {
    it("kills a running turn's process group, fails it as cancelled, keeps the sandbox and lets it continue", async () => {
      const { job_id } = await admin.jobs.create({
        job_type: "cursor_task",
        prompt: "write:kept.md;pid;child;sleep:60000",
      });
      // The pids an agent prints are its jail's own: find its processes on the host by their job id. The
      // agent and the child it starts must both be up before the cancel.
      await until("the agent's child", async () => {
        for await (const event of admin.jobs.events(job_id))
          if (event.type === "output" && String(event.data.line).startsWith("child=")) return true;
        return undefined;
      });
      const pids = jobProcesses(job_id);
      expect(pids.length).toBeGreaterThanOrEqual(2);
      expect(pids.every(isAlive)).toBe(true);

      const cancelled = await admin.jobs.cancel(job_id);
      expect(cancelled).toMatchObject({ status: "failed", error: { code: "cancelled" } });
      await until("the agent and its child to die", async () => (pids.some(isAlive) ? undefined : true));
      const sandbox = cancelled.sandbox_id ?? "";
      expect(existsSync(join(sandboxDir(server.dataDir, sandbox), "kept.md"))).toBe(true);
      const statuses = [];
      for await (const event of admin.jobs.events(job_id)) if (event.type === "status") statuses.push(event.data);
      expect(statuses.at(-1)).toEqual({
        status: "failed",
        error: { code: "cancelled", message: "cancelled by request" },
      });

      await admin.jobs.continue(job_id, { prompt: "say:again" });
      const again = await admin.jobs.waitFor(job_id, wait);
      expect(again).toMatchObject({ status: "completed", turns: 2, sandbox_id: sandbox });
    });

    it("keeps a pending job from ever starting, and refuses to cancel a finished job (409)", async () => {
      const blocker = await admin.jobs.create({ job_type: "cursor_task", prompt: "sleep:60000" });
      await until("the blocker to run", async () =>
        (await admin.jobs.get(blocker.job_id)).status === "running" ? true : undefined,
      );
      // One turn at a time (KNIFY_MAX_CONCURRENT_JOBS=1): this one waits.
      const queued = await admin.jobs.create({ job_type: "cursor_task", prompt: "write:never.md" });
      const cancelled: Job = await admin.jobs.cancel(queued.job_id);
      expect(cancelled).toMatchObject({
        status: "failed",
        started_at: null,
        sandbox_id: null,
        error: { code: "cancelled" },
      });

      await admin.jobs.cancel(blocker.job_id);
      // The blocker's place is free; the cancelled job must still never run.
      const next = await admin.jobs.createAndWait({ job_type: "cursor_task", prompt: "say:after" }, wait);
      expect(next.status).toBe("completed");
      const after = await admin.jobs.get(queued.job_id);
      expect(after).toMatchObject({ status: "failed", started_at: null, error: { code: "cancelled" } });
      const types = [];
      for await (const event of admin.jobs.events(queued.job_id))
        types.push(event.type === "status" ? event.data.status : event.type);
      expect(types).toEqual(["pending", "turn", "failed"]);

      const error = await admin.jobs.cancel(next.id).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe("conflict");
      expect((error as ConflictError).message).toContain("completed");
    });
  });
});
