import pg from "pg";
import { describe } from "vitest";

/**
 * The PostgreSQL the tests use: `KNIFY_TEST_POSTGRES_URL`, else the machine's (127.0.0.1:5432, trust
 * auth, database `test`). Each test file creates its own database there and drops it afterwards, so runs
 * never see each other's rows.
 */
export const ADMIN_URL = process.env.KNIFY_TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test";

async function reachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

const unreachable = await reachable();

/**
 * `describe` for tests that need PostgreSQL. Where no database answers: in CI (`CI` set) the suite fails
 * (a missing database must not pass as green); locally it is skipped with a loud message.
 */
export function describePostgres(name: string, body: () => void): void {
  if (unreachable === null) {
    describe(name, body);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      throw new Error(`PostgreSQL at ${ADMIN_URL} is unreachable (${unreachable}); CI needs it.`);
    });
    return;
  }
  console.warn(
    `\n!!! SKIPPED "${name}": PostgreSQL at ${ADMIN_URL} is unreachable (${unreachable}). Start it or set KNIFY_TEST_POSTGRES_URL.\n`,
  );
  describe.skip(name, body);
}

/** A fresh, empty database for one test file; `drop` removes it (and ends its connections). */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `knify_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * Empties every table the store writes (between contract cases that share one database). DELETE, not
 * TRUNCATE: on tables this small it is several times faster, and it needs no exclusive locks.
 */
export async function emptyTables(client: pg.ClientBase): Promise<void> {
  // Children first, so no foreign key is left dangling at any step.
  await client.query(`
    DELETE FROM webhook_attempts; DELETE FROM webhook_deliveries; DELETE FROM webhook_events;
    DELETE FROM webhook_endpoints; DELETE FROM job_events; DELETE FROM jobs; DELETE FROM workspaces;
    DELETE FROM idempotency; DELETE FROM usage_daily; DELETE FROM rate_limits; DELETE FROM key_secrets;
    DELETE FROM keys;`);
}
