import pg from "pg";

/** A connection or the pool: what a repository method runs its statements on. */
export type Queryable = pg.Pool | pg.ClientBase;

// BIGINT (epoch ms, counts) and NUMERIC (sums) come back as strings by default; every value the store
// keeps fits a double exactly (times, byte counts, counters), so they are numbers here, as in SQLite.
const BIGINT = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === BIGINT || oid === NUMERIC
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** A pool on `url` whose numbers read as numbers. */
export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, types, connectionTimeoutMillis: 10_000 });
  // An idle client whose server went away emits here; unhandled, it would end the process.
  pool.on("error", () => {});
  return pool;
}

// Deadlocks and serialization failures are safe to retry: the transaction rolled back as a whole.
const RETRYABLE = new Set(["40P01", "40001"]);
const MAX_ATTEMPTS = 5;

/**
 * Runs `work` in one READ COMMITTED transaction on a client of the pool, retrying it when PostgreSQL
 * aborts it for a deadlock or a serialization failure. `work` may run more than once: it must only write
 * through `client`.
 */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      const code = (error as { code?: string }).code;
      if (attempt >= MAX_ATTEMPTS || code === undefined || !RETRYABLE.has(code)) throw error;
    } finally {
      client.release();
    }
  }
}

/** The rows of one statement, typed by the caller. */
export async function rows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db.query(sql, params)).rows as T[];
}

/** The first row of one statement, or null. */
export async function row<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T | null> {
  return ((await db.query(sql, params)).rows[0] as T | undefined) ?? null;
}

/** Holds a transaction-scoped advisory lock named by `name`: writers of one thing take turns. */
export async function lockFor(client: pg.PoolClient, name: string): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [name]);
}
