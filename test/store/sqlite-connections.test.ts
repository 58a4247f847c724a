import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../server/src/store/sqlite/index.js";
import type { Store } from "../../server/src/store/store.js";

// Issue 11: the SQLite store decides most admissions from the TAT it last stored and writes it with one
// compare-and-set. Two connections to one file (two processes, in effect) must still share one exact limit.
const dir = mkdtempSync(join(tmpdir(), "knify-sqlite-connections-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function twoStores(name: string): Promise<[Store, Store]> {
  const file = join(dir, `${name}.db`);
  return [await openSqliteStore(file, { usageFlushMs: 0 }), await openSqliteStore(file, { usageFlushMs: 0 })];
}

describe("SqliteRequestRepo.admit on two connections to one file", () => {
  it("admits exactly the limit when both connections take turns, each having admitted before", async () => {
    const [a, b] = await twoStores("turns");
    const now = Date.parse("2026-07-15T08:00:00Z");
    try {
      // Both learn the key's TAT first, so every later admit starts on the compare-and-set path.
      expect((await a.requests.admit("key_x", 10, now)).allowed).toBe(true);
      expect((await b.requests.admit("key_x", 10, now)).allowed).toBe(true);
      const decisions: boolean[] = [];
      for (let i = 0; i < 20; i++) decisions.push((await (i % 2 ? a : b).requests.admit("key_x", 10, now)).allowed);
      expect(decisions.filter(Boolean)).toHaveLength(8);
      expect(decisions.slice(0, 8).every(Boolean)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("gives a refused request the Retry-After of the stored TAT, not of this connection's stale one", async () => {
    const [a, b] = await twoStores("retry");
    const now = Date.parse("2026-07-15T08:00:00Z");
    try {
      expect((await a.requests.admit("key_y", 2, now)).allowed).toBe(true);
      expect((await b.requests.admit("key_y", 2, now)).allowed).toBe(true);
      const refused = await a.requests.admit("key_y", 2, now);
      expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 30_000 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("counts usage from both connections once both have flushed", async () => {
    const [a, b] = await twoStores("usage");
    const now = Date.parse("2026-07-15T08:00:00Z");
    try {
      for (let i = 0; i < 3; i++) await a.requests.admit("key_z", 100, now);
      for (let i = 0; i < 4; i++) await b.requests.admit("key_z", 100, now);
      await b.close();
      expect((await a.requests.usage("key_z", now)).requestsToday).toBe(7);
    } finally {
      await a.close();
    }
  });
});
