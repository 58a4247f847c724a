import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KnifyClient } from "@knify/sdk";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "../../server/src/store/sqlite/database.js";
import { migrations } from "../../server/src/store/sqlite/migrations.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 15, item 11: workspace names were unique across the whole server, so a tenant learned another's
// names from a 409 and could take a name before its owner did. Names are now unique per namespace.
let server: TestServer;
const source = mkdtempSync(join(tmpdir(), "knify-ws-names-"));
writeFileSync(join(source, "README.md"), "# names\n");

beforeAll(async () => {
  server = await startTestServer({ env: { KNIFY_SIMULATOR_DELAY_MS: "20" } });
});
afterAll(async () => {
  await server.stop();
  rmSync(source, { recursive: true, force: true });
});

const clientFor = async (workspaceId: string | null) =>
  new KnifyClient((await server.key({ workspaceId })).apiKey, { baseURL: server.url, maxRetries: 0 });

describe("workspace names across tenants", () => {
  it("two tenants may use the same name: neither learns of nor blocks the other", async () => {
    const a = await clientFor("ws_names_a");
    const b = await clientFor("ws_names_b");
    const first = await a.workspaces.upload({ name: "acme-secret", path: source });
    const second = await b.workspaces.upload({ name: "acme-secret", path: source });
    expect(first.workspace_id).toBe("ws_names_a");
    expect(second.workspace_id).toBe("ws_names_b");
    expect(second.path).toBe("/workspaces/acme-secret");

    // The same path means each tenant's own workspace.
    const jobA = await a.jobs.createAndWait(
      { job_type: "cursor_task", prompt: "hi", workspace_path: "/workspaces/acme-secret" },
      { pollInterval: 20 },
    );
    const jobB = await b.jobs.createAndWait(
      { job_type: "cursor_task", prompt: "hi", workspace_path: "/workspaces/acme-secret" },
      { pollInterval: 20 },
    );
    expect(jobA.workspace_id).toBe("ws_names_a");
    expect(jobB.workspace_id).toBe("ws_names_b");
  });

  it("a tenant's path never reaches another tenant's workspace", async () => {
    const owner = await clientFor("ws_names_owner");
    const other = await clientFor("ws_names_other");
    await owner.workspaces.upload({ name: "only-mine", path: source });
    const error = await other.jobs
      .create({ job_type: "cursor_task", prompt: "hi", workspace_path: "/workspaces/only-mine" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, code: "not_found" });
  });

  it("keys without a workspace share one namespace, where a name is still unique", async () => {
    const operator = await clientFor(null);
    const tenant = await clientFor("ws_names_tenant");
    await tenant.workspaces.upload({ name: "team-repo", path: source });
    const shared = await operator.workspaces.upload({ name: "team-repo", path: source });
    expect(shared.workspace_id).not.toBe("ws_names_tenant");
    const again = await operator.workspaces.upload({ name: "team-repo", path: source }).catch((e: unknown) => e);
    expect(again).toMatchObject({ status: 409, code: "workspace_exists" });
    // The operator's path names the workspace of its own namespace.
    const job = await operator.jobs.create({
      job_type: "cursor_task",
      prompt: "hi",
      workspace_path: "/workspaces/team-repo",
    });
    expect((await operator.jobs.get(job.job_id)).workspace_id).toBe(shared.workspace_id);
  });
});

describe("the migration to per-namespace names", () => {
  it("keeps existing workspaces and every column, in the shared namespace", () => {
    const db = new Database(":memory:");
    applyMigrations(
      db,
      migrations.filter((m) => m.name !== "workspace names unique per namespace"),
    );
    db.exec("ALTER TABLE workspaces ADD COLUMN added_by_another_branch TEXT DEFAULT 'kept'");
    db.prepare(
      "INSERT INTO workspaces (id, name, created_at, updated_at, file_count, size_bytes, added_by_another_branch) VALUES ('ws_old', 'old', 1, 2, 3, 4, 'x')",
    ).run();
    applyMigrations(db, migrations);
    expect(db.prepare("SELECT * FROM workspaces").all()).toEqual([
      {
        id: "ws_old",
        name: "old",
        created_at: 1,
        updated_at: 2,
        file_count: 3,
        size_bytes: 4,
        added_by_another_branch: "x",
        name_scope: "",
      },
    ]);
    const insert = db.prepare(
      "INSERT INTO workspaces (id, name, name_scope, created_at, updated_at, file_count, size_bytes) VALUES (?, 'old', ?, 1, 1, 0, 0)",
    );
    insert.run("ws_scoped", "ws_scoped");
    expect(() => insert.run("ws_dup", "")).toThrow(/UNIQUE/);
    db.close();
  });
});
