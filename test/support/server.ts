import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { Permission } from "../../server/src/auth/permissions.js";
import type { Clock } from "../../server/src/clock.js";
import { loadConfig, type ServerConfig } from "../../server/src/config.js";
import { type CreateKeyInput, createKey } from "../../server/src/keys/create-key.js";
import { createLogger } from "../../server/src/logger.js";
import { type RunningServer, startServer } from "../../server/src/server.js";
import { call, type Reply } from "./http.js";
import { createTestDatabase } from "./postgres.js";

/**
 * A real server on a loopback port, with a real SQLite file in a temp data dir; or, in the vitest project
 * `postgres` (KNIFY_TEST_DATABASE=postgres), on a PostgreSQL database of its own, dropped when it stops.
 */
export interface TestServer extends RunningServer {
  config: ServerConfig;
  dataDir: string;
  /** An admin:all key without a workspace. */
  adminKey: string;
  /** Creates a key straight in the store (like the CLI does). */
  key(input?: Partial<CreateKeyInput> & { permissions?: Permission[] }): Promise<{ id: string; apiKey: string }>;
  stop(): Promise<void>;
}

/**
 * Starts the reference server for a test. `env` sets KNIFY_* variables for this server only; `publicDir` is
 * where its dashboard and API reference come from (a build of the test's own, see test/support/site.ts).
 * @example const server = await startTestServer(); afterAll(() => server.stop());
 */
export async function startTestServer(
  options: { env?: Record<string, string>; clock?: Clock; publicDir?: string } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "knify-test-"));
  const database =
    process.env.KNIFY_TEST_DATABASE === "postgres" && !options.env?.KNIFY_DATABASE_URL
      ? await createTestDatabase()
      : null;
  const env = {
    ...options.env,
    ...(database ? { KNIFY_DATABASE_URL: database.url } : {}),
    KNIFY_DATA_DIR: dataDir,
    KNIFY_PORT: "0",
    KNIFY_HOST: "127.0.0.1",
  };
  const config = loadConfig(env);
  const logger = createLogger(process.env.KNIFY_TEST_LOG_LEVEL ?? "silent");
  const server = await startServer(config, logger, {
    env,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.publicDir ? { publicDir: options.publicDir } : {}),
  });
  const now = () => (options.clock ?? { now: () => Date.now() }).now();
  const key: TestServer["key"] = async (input = {}) => {
    const created = await createKey(server.store, config, now(), { name: "test key", ...input });
    return { id: created.key.id, apiKey: created.apiKey };
  };
  const admin = await key({ name: "admin", permissions: ["admin:all"] });
  return {
    ...server,
    config,
    dataDir,
    adminKey: admin.apiKey,
    key,
    async stop() {
      await server.close(1000);
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One test server for the whole file (started before its tests, closed after them), and `admin`: a call made
 * with its admin key.
 * @example const api = testServerForFile(); it("…", async () => { const res = await api.admin("GET", "/keys"); });
 */
export function testServerForFile(): {
  readonly server: TestServer;
  admin(method: string, path: string, body?: unknown): Promise<Reply>;
} {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  const started = (): TestServer => {
    if (!server) throw new Error("the test server has not started");
    return server;
  };
  return {
    get server() {
      return started();
    },
    admin: (method, path, body) =>
      call(started().url, method, path, { key: started().adminKey, ...(body === undefined ? {} : { body }) }),
  };
}
