import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/src/config.js";
import { describePostgres } from "../support/describe-postgres.js";
import { call } from "../support/http.js";
import { createTestDatabase } from "../support/postgres.js";
import { startTestServer, type TestServer } from "../support/server.js";

const exec = promisify(execFile);
const bin = join(import.meta.dirname, "..", "..", "server", "bin", "knify-server.mjs");

it("refuses a KNIFY_DATABASE_URL that is not PostgreSQL, without repeating it (it may hold a password)", () => {
  const env = { KNIFY_DATABASE_URL: "mysql://admin:hunter2@db/knify" };
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(/must be a PostgreSQL URL.*"mysql:"/);
  expect(() => loadConfig(env)).not.toThrow(/hunter2/);
  expect(loadConfig({ KNIFY_DATABASE_URL: "postgresql://db/knify" }).databaseUrl).toBe("postgresql://db/knify");
  expect(loadConfig({}).databaseUrl).toBeNull();
});

describePostgres("the server and CLI on PostgreSQL (KNIFY_DATABASE_URL)", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestServer;
  let db: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startTestServer({ env: { KNIFY_DATABASE_URL: database.url, KNIFY_SIMULATOR_DELAY_MS: "20" } });
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await server?.stop();
    await database?.drop();
  });

  it("keeps its state in PostgreSQL and creates no SQLite file", async () => {
    const created = await call(server.url, "POST", "/jobs", {
      key: server.adminKey,
      body: { spec: { job_type: "cursor_task", prompt: "hello" } },
    });
    expect(created.status).toBe(200);
    const rows = await db.query("SELECT id FROM jobs WHERE id = $1", [created.body.job_id]);
    expect(rows.rows).toEqual([{ id: created.body.job_id }]);
    expect(readdirSync(server.dataDir).filter((name) => name.endsWith(".db") || name.includes(".db-"))).toEqual([]);
    expect(existsSync(server.config.databasePath)).toBe(false);
  });

  it("runs `knify-server keys` against the same database", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "knify-cli-pg-"));
    const env = { ...process.env, KNIFY_DATA_DIR: dataDir, KNIFY_DATABASE_URL: database.url };
    try {
      const created = JSON.parse(
        (await exec(process.execPath, [bin, "keys", "create", "--name", "from-cli"], { env })).stdout,
      ) as { key_id: string; api_key: string };
      // The running server sees the key the CLI wrote, and the CLI revokes it there.
      expect((await call(server.url, "GET", "/keys/verify", { key: created.api_key })).status).toBe(200);
      await exec(process.execPath, [bin, "keys", "revoke", created.key_id], { env });
      expect((await call(server.url, "GET", "/keys/verify", { key: created.api_key })).status).toBe(401);
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    // Each CLI run starts a Node process, which takes a second or more on a loaded 2-core machine.
  }, 120_000);
});
