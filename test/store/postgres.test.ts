import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { openPostgresStore } from "../../server/src/store/postgres/index.js";
import type { Store } from "../../server/src/store/store.js";
import { createTestDatabase, describePostgres, emptyTables } from "../support/postgres.js";
import { storeContract } from "./contract.js";

describePostgres("store contract: PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: Store;
  let cleaner: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = await openPostgresStore(database.url, { poolSize: 6, rateLimitClock: "caller" });
    cleaner = new pg.Client({ connectionString: database.url });
    await cleaner.connect();
  });
  afterAll(async () => {
    await cleaner?.end();
    await store?.close();
    await database?.drop();
  });

  storeContract({
    name: "postgres",
    async open() {
      // One store (pool and LISTEN connection) for the file, emptied for each case; a case's close() must
      // not end it for the next one.
      await emptyTables(cleaner);
      return Object.create(store, { close: { value: async () => {} } }) as Store;
    },
  });
});
