import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { ConflictError, KnifyClient } from "@knify/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config.js";
import { sandboxDir } from "../../server/src/jobs/sandbox-paths.js";
import { createLogger } from "../../server/src/logger.js";
import { startServer } from "../../server/src/server.js";
import { startTestServer, type TestServer } from "../support/server.js";

// KNIFY_PRESET_WORKSPACES_DIR, with the example presets the repository ships (examples/presets).
const exec = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const PRESETS = join(root, "examples", "presets");
const RUNBOOK = readFileSync(join(PRESETS, "e2e-tests", "create-user.md"), "utf8");

describe("pre-configured workspaces", () => {
  let server: TestServer;
  let admin: KnifyClient;
  const clientFor = (apiKey: string) =>
    new KnifyClient(apiKey, { baseURL: server.url, maxRetries: 0, logLevel: "off" });

  beforeAll(async () => {
    server = await startTestServer({ env: { KNIFY_PRESET_WORKSPACES_DIR: PRESETS, KNIFY_SIMULATOR_DELAY_MS: "20" } });
    admin = clientFor(server.adminKey);
  });
  afterAll(() => server.stop());

  it("runs the docs' fh_e2e_tools example verbatim, with a copy of the preset in the sandbox", async () => {
    const key = await server.key({ name: "e2e" });
    // Knify's "Working with Jobs" page, E2E Automation, as written (only the base URL is ours).
    const script = `curl -s -X POST https://api.knify.io/jobs \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer $KNIFY_API_KEY" \\
  -d '{
    "spec": {
      "job_type": "fh_e2e_tools",
      "prompt": "Create a test user using the runbook @create-user.md",
      "workspace_path": "/workspaces/e2e-tests"
    }
  }'`;
    const { stdout } = await exec("bash", ["-c", script.replaceAll("https://api.knify.io", server.url)], {
      env: { ...process.env, KNIFY_API_KEY: key.apiKey },
    });
    const handle = JSON.parse(stdout) as { job_id: string; status: string };
    expect(handle.job_id).toMatch(/^job_/);
    const job = await admin.jobs.waitFor(handle.job_id, { pollInterval: 20, timeout: 20_000 });
    expect(job).toMatchObject({ status: "completed", workspace_id: null });
    expect(job.spec).toMatchObject({ job_type: "fh_e2e_tools", workspace_path: "/workspaces/e2e-tests" });
    const sandbox = sandboxDir(server.dataDir, job.sandbox_id ?? "");
    expect(readFileSync(join(sandbox, "create-user.md"), "utf8")).toBe(RUNBOOK);
    expect(await admin.jobs.changes(job.id)).toEqual([]);
  });

  it("lists presets for every key, scoped or not, with preset: true", async () => {
    const scoped = await server.key({
      workspaceId: `ws_team_${process.pid}`,
      permissions: ["workspaces:read", "workspaces:write"],
    });
    const team = clientFor(scoped.apiKey);
    const own = await team.workspaces.upload({ name: `team-${process.pid}`, path: PRESETS });
    for (const client of [admin, team]) {
      const listed = [];
      for await (const w of client.workspaces.list({ limit: 1 })) listed.push(w);
      const preset = listed.find((w) => w.name === "e2e-tests");
      expect(preset).toMatchObject({
        workspace_id: "ws_preset_e2e_tests",
        path: "/workspaces/e2e-tests",
        preset: true,
        file_count: 1,
        size_bytes: Buffer.byteLength(RUNBOOK),
      });
      expect(listed.find((w) => w.workspace_id === own.workspace_id)?.preset).toBe(false);
      expect(new Set(listed.map((w) => w.workspace_id)).size).toBe(listed.length);
      expect(await client.workspaces.get("ws_preset_e2e_tests")).toEqual(preset);
    }
  });

  it("is read-only: PUT and DELETE answer 409 workspace_read_only, and its name cannot be taken", async () => {
    const before = readdirSync(join(PRESETS, "e2e-tests"));
    for (const attempt of [
      () => admin.workspaces.replace("ws_preset_e2e_tests", { path: PRESETS }),
      () => admin.workspaces.delete("ws_preset_e2e_tests"),
    ]) {
      const error = await attempt().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe("workspace_read_only");
      expect((error as ConflictError).message).toContain("read-only");
    }
    const taken = await admin.workspaces.upload({ name: "e2e-tests", path: PRESETS }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((taken as ConflictError).code).toBe("workspace_exists");
    expect(readdirSync(join(PRESETS, "e2e-tests"))).toEqual(before);
    // The server still answers on the connection pool after a refused, unread upload.
    expect((await admin.health()).status).toBe("ok");
  });

  it("stops the start with a message naming KNIFY_PRESET_WORKSPACES_DIR when it is not a directory", async () => {
    const env = { KNIFY_PRESET_WORKSPACES_DIR: join(PRESETS, "README.md"), KNIFY_PORT: "0" };
    await expect(startServer(loadConfig(env), createLogger("silent"), { env })).rejects.toThrow(
      /KNIFY_PRESET_WORKSPACES_DIR must be a readable directory/,
    );
  });
});
