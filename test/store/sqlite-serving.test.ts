import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../server/src/store/sqlite/index.js";
import { JOB_CACHE_ENTRIES } from "../../server/src/store/sqlite/jobs.js";
import { readFromFile } from "../support/sqlite.js";
import { aJob, aKey, jobEvents } from "./target.js";

// Issue 11: the server opens its SQLite store in serving mode: it holds the file's serve lock and keeps the
// rate limits (GCRA TATs) in memory, written with the usage flush. These are that mode's own rules, in
// process (the server-level tests in test/server/usage-flush.test.ts run them through `knify-server start`).
const dir = mkdtempSync(join(tmpdir(), "knify-sqlite-serving-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NOW = Date.parse("2026-07-15T08:00:00Z");
let n = 0;
const fresh = () => join(dir, `serving-${++n}`, "knify.db");

/** The TAT the file holds for a key (another connection's read, as the CLI's would be). */
const tatOnDisk = (file: string, keyId: string) =>
  readFromFile(file, "SELECT tat FROM rate_limits WHERE key_id = ?", keyId) as number | undefined;

describe("a SQLite store opened to serve", () => {
  it("refuses a second server on the same file, saying what to do, and frees the file on close", async () => {
    const file = fresh();
    const first = await openSqliteStore(file, { serve: true, usageFlushMs: 0 });
    const refused = await openSqliteStore(file, { serve: true, usageFlushMs: 0 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toBe(
      `another knify server is serving ${file} (it holds ${file}.serve-lock). Stop it first, give this one its own KNIFY_DATA_DIR, or run several replicas on PostgreSQL (KNIFY_DATABASE_URL).`,
    );
    // A store that does not serve (the CLI) opens beside it.
    const cli = await openSqliteStore(file, { usageFlushMs: 0 });
    await cli.close();
    await first.close();
    const next = await openSqliteStore(file, { serve: true, usageFlushMs: 0 });
    await next.close();
  });

  it("admits from memory: nothing is written per request, all of it on flush, and a new server continues from it", async () => {
    const file = fresh();
    const store = await openSqliteStore(file, { serve: true, usageFlushMs: 0 });
    for (let i = 0; i < 3; i++) expect((await store.requests.admit("key_a", 3, NOW)).allowed).toBe(true);
    expect(tatOnDisk(file, "key_a")).toBeUndefined();
    // A read of usage flushes the counts, and the TATs with them.
    expect((await store.requests.usage("key_a", NOW)).requestsToday).toBe(3);
    expect(tatOnDisk(file, "key_a")).toBe(NOW + 60_000);
    // A refusal changes no TAT, so the next flush has nothing to write for it.
    expect((await store.requests.admit("key_a", 3, NOW)).allowed).toBe(false);
    await store.close();
    expect(tatOnDisk(file, "key_a")).toBe(NOW + 60_000);

    const again = await openSqliteStore(file, { serve: true, usageFlushMs: 0 });
    try {
      const refused = await again.requests.admit("key_a", 3, NOW + 1000);
      expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 19_000 });
      expect((await again.requests.admit("key_a", 3, NOW + 20_000)).allowed).toBe(true);
    } finally {
      await again.close();
    }
  });

  it("writes a TAT before forgetting it when more than 10,000 keys were seen, so no limit is lost", async () => {
    const file = fresh();
    const store = await openSqliteStore(file, { serve: true, usageFlushMs: 0 });
    try {
      expect((await store.requests.admit("key_first", 1, NOW)).allowed).toBe(true);
      for (let i = 0; i < 10_000; i++) await store.requests.admit(`key_${i}`, 1000, NOW);
      // key_first was the oldest entry: pushed out of memory, written on the way out.
      expect(tatOnDisk(file, "key_first")).toBe(NOW + 60_000);
      expect((await store.requests.admit("key_first", 1, NOW + 1)).allowed).toBe(false);
    } finally {
      await store.close();
    }
  });

  it("counts a request under its own UTC day when the clock steps back over midnight", async () => {
    const file = fresh();
    const store = await openSqliteStore(file, { serve: true, usageFlushMs: 0 });
    try {
      const midnight = Date.parse("2026-12-01T00:00:00Z");
      await store.requests.admit("key_b", 100, midnight + 1000);
      // NTP or an operator sets the clock back: the next request belongs to the day before.
      await store.requests.admit("key_b", 100, midnight - 1000);
      expect(await store.requests.daily("key_b", "2026-11-30", "2026-12-01")).toEqual([
        { day: "2026-11-30", count: 1 },
        { day: "2026-12-01", count: 1 },
      ]);
    } finally {
      await store.close();
    }
  });

  it("keeps last_used at the latest request, also when an earlier one is counted after it", async () => {
    const file = fresh();
    const store = await openSqliteStore(file, { serve: true, usageFlushMs: 0 });
    try {
      const key = aKey();
      await store.keys.create(key);
      await store.requests.admit(key.id, 100, NOW + 5000);
      await store.requests.admit(key.id, 100, NOW);
      expect((await store.requests.usage(key.id, NOW + 5000)).lastUsed).toBe(NOW + 5000);
    } finally {
      await store.close();
    }
  });

  it("writes counts and rate limits every usageFlushMs, with no read asking for them", async () => {
    const file = fresh();
    const store = await openSqliteStore(file, { serve: true, usageFlushMs: 20 });
    try {
      for (let i = 0; i < 2; i++) expect((await store.requests.admit("key_d", 2, NOW)).allowed).toBe(true);
      const onDisk = () => readFromFile(file, "SELECT sum(count) FROM usage_daily WHERE key_id = ?", "key_d");
      await expect.poll(onDisk, { timeout: 5000 }).toBe(2);
      expect(tatOnDisk(file, "key_d")).toBe(NOW + 60_000);
    } finally {
      await store.close();
    }
  });
});

// The serving store's job cache (issue 11): frozen records by id, emptied by every write of the job repository.
describe("the serving store's job cache", () => {
  it("hands out one frozen record per job until a write, and null for a job it does not hold", async () => {
    const store = await openSqliteStore(fresh(), { serve: true, usageFlushMs: 0 });
    try {
      const job = aJob();
      await store.jobs.create(job, null, jobEvents);
      const first = await store.jobs.get(job.id);
      expect(Object.isFrozen(first)).toBe(true);
      expect(await store.jobs.get(job.id)).toBe(first);
      expect(await store.jobs.get("job_none")).toBeNull();
      await store.jobs.claimNext(job.runner, "r1", Date.now(), 60_000);
      const claimed = await store.jobs.get(job.id);
      expect(claimed).not.toBe(first);
      expect(claimed?.claimedBy).toBe("r1");
    } finally {
      await store.close();
    }
  });

  it(`keeps at most ${JOB_CACHE_ENTRIES} records, letting the oldest go first`, { timeout: 120_000 }, async () => {
    const store = await openSqliteStore(fresh(), { serve: true, usageFlushMs: 0 });
    try {
      const ids: string[] = [];
      for (let i = 0; i <= JOB_CACHE_ENTRIES; i++) {
        const job = aJob({ id: `job_cap${String(i).padStart(6, "0")}` });
        await store.jobs.create(job, null, jobEvents);
        ids.push(job.id);
      }
      // Read in order: the cache fills with the first JOB_CACHE_ENTRIES, and the last read pushes out the first.
      const held = new Map<string, unknown>();
      for (const id of ids) held.set(id, await store.jobs.get(id));
      const [oldest, second] = ids;
      const newest = ids.at(-1);
      if (!oldest || !second || !newest) throw new Error("no jobs");
      expect(await store.jobs.get(newest)).toBe(held.get(newest));
      expect(await store.jobs.get(second)).toBe(held.get(second));
      const reread = await store.jobs.get(oldest);
      expect(reread).not.toBe(held.get(oldest));
      expect(reread).toEqual(held.get(oldest));
    } finally {
      await store.close();
    }
  });
});
