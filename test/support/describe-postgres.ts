import pg from "pg";
import { describe } from "vitest";
import { ADMIN_URL } from "./postgres.js";

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
