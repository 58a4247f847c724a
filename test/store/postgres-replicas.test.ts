import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openPostgresStore } from "../../server/src/store/postgres/index.js";
import { migrations } from "../../server/src/store/postgres/migrations.js";
import type { Store } from "../../server/src/store/store.js";
import { describePostgres } from "../support/describe-postgres.js";
import { createTestDatabase } from "../support/postgres.js";
import { aJob, aKey, anEndpoint, anEvent, jobEvents } from "./target.js";

/** What only a shared database adds to the contract: several stores (replicas) on one PostgreSQL. */
describePostgres("PostgreSQL store: replicas on one database", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: Store;
  let b: Store;

  beforeAll(async () => {
    database = await createTestDatabase();
    // Replicas starting together: both migrate under the advisory lock, and the schema is applied once.
    [a, b] = await Promise.all([openPostgresStore(database.url), openPostgresStore(database.url)]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it("migrates once when replicas start together, and says it is ready", async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const versions = await client.query("SELECT version FROM schema_migrations ORDER BY version");
    await client.end();
    // Each version once, however many replicas applied them at the same time.
    expect(versions.rows).toEqual(migrations.map(({ version }) => ({ version })));
    await expect(a.ready()).resolves.toBeUndefined();
  });

  it("rate limits on the database's clock: replicas' clocks (the `now` passed) do not matter", async () => {
    const key = aKey();
    await a.keys.create(key);
    expect((await a.requests.admit(key.id, 1, 0)).allowed).toBe(true);
    // A replica whose clock is a century ahead gets no fresh minute.
    expect((await b.requests.admit(key.id, 1, Date.now() + 100 * 365 * 86_400_000)).allowed).toBe(false);
    expect((await b.requests.usage(key.id, Date.now())).requestsToday).toBe(1);
  });

  it("tells another replica at once that a job changed or a turn was queued (LISTEN/NOTIFY)", async () => {
    const heard: [string, boolean][] = [];
    let wake: () => void = () => {};
    const unsubscribe = b.feed?.onJob((jobId, queued) => {
      heard.push([jobId, queued]);
      wake();
    });
    const job = aJob();
    const queuedHeard = new Promise<void>((resolve) => {
      wake = resolve;
    });
    await a.jobs.create(job, null, jobEvents);
    await queuedHeard;
    expect(heard).toEqual([[job.id, true]]);
    const changeHeard = new Promise<void>((resolve) => {
      wake = resolve;
    });
    await a.jobs.appendEvents(job.id, [{ type: "output", data: { text: "hi" } }], Date.now());
    await changeHeard;
    expect(heard.at(-1)).toEqual([job.id, false]);
    unsubscribe?.();
  });

  it("wakes another replica's delivery worker when a delivery is queued", async () => {
    const endpoint = anEndpoint("ws_repl");
    await a.webhooks.createEndpoint(endpoint, 10);
    const woken = new Promise<void>((resolve) => {
      const unsubscribe = b.webhooks.onEnqueued(() => {
        unsubscribe();
        resolve();
      });
    });
    expect(await a.webhooks.enqueue(anEvent("ws_repl"))).toBe(1);
    await woken;
  });

  it("is not ready once its connections are closed", async () => {
    const c = await openPostgresStore(database.url);
    await c.close();
    await expect(c.ready()).rejects.toThrow();
  });
});
