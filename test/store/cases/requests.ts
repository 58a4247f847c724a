import { describe, expect, it } from "vitest";
import { aKey, type StoreTarget, T0 } from "../target.js";

export function requestCases(target: StoreTarget): void {
  describe("rate limits and usage", () => {
    it("admits exactly the limit in one instant, then refuses with a wait and counts nothing", async () => {
      const store = await target.open();
      const key = aKey();
      await store.keys.create(key);
      const admitted = [];
      for (let i = 0; i < 3; i++) admitted.push(await store.requests.admit(key.id, 3, T0));
      expect(admitted.map((a) => [a.allowed, a.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
      ]);
      const refused = await store.requests.admit(key.id, 3, T0);
      expect(refused).toMatchObject({ allowed: false, limit: 3, remaining: 0 });
      expect(refused.retryAfterMs).toBe(20_000);
      expect((await store.requests.usage(key.id, T0)).requestsToday).toBe(3);
    });

    it("frees one request per emission interval, and the whole limit after a minute (no double burst)", async () => {
      const store = await target.open();
      const key = aKey();
      await store.keys.create(key);
      for (let i = 0; i < 3; i++) await store.requests.admit(key.id, 3, T0);
      expect((await store.requests.admit(key.id, 3, T0 + 19_999)).allowed).toBe(false);
      expect((await store.requests.admit(key.id, 3, T0 + 20_000)).allowed).toBe(true);
      expect((await store.requests.admit(key.id, 3, T0 + 20_000)).allowed).toBe(false);
      const later = T0 + 20_000 + 60_000;
      for (let i = 0; i < 3; i++) expect((await store.requests.admit(key.id, 3, later)).allowed).toBe(true);
      expect((await store.requests.admit(key.id, 3, later)).allowed).toBe(false);
    });

    it("is exact under parallel admits: 20 of 50 at once for a 20/min key", async () => {
      const store = await target.open();
      const key = aKey();
      await store.keys.create(key);
      const results = await Promise.all(Array.from({ length: 50 }, () => store.requests.admit(key.id, 20, T0)));
      expect(results.filter((r) => r.allowed)).toHaveLength(20);
      expect((await store.requests.usage(key.id, T0)).requestsToday).toBe(20);
    });

    it("survives a clock that stepped back by more than a minute: one request at once, then the limit's pace", async () => {
      const store = await target.open();
      const key = aKey();
      await store.keys.create(key);
      for (let i = 0; i < 3; i++) expect((await store.requests.admit(key.id, 3, T0)).allowed).toBe(true);
      // An hour back: counted as it was, the stored TAT (T0 + 1 min) would refuse the key for an hour.
      const back = T0 - 3_600_000;
      expect(await store.requests.admit(key.id, 3, back)).toMatchObject({
        allowed: true,
        remaining: 0,
        resetAt: back + 60_000,
      });
      // From there it is paced as a key that has used its whole minute: the next one after 20 s, not at once.
      expect(await store.requests.admit(key.id, 3, back + 1)).toMatchObject({ allowed: false, retryAfterMs: 19_999 });
      expect((await store.requests.admit(key.id, 3, back + 20_000)).allowed).toBe(true);
      expect((await store.requests.admit(key.id, 3, back + 20_000)).allowed).toBe(false);
    });

    it("keeps an exhausted key refused when the clock steps back by less than a minute, for the step and one interval", async () => {
      const store = await target.open();
      const key = aKey();
      await store.keys.create(key);
      for (let i = 0; i < 3; i++) await store.requests.admit(key.id, 3, T0);
      // 30 s back: no extra request (the TAT, T0 + 60 s, is within two periods of now); free again at T0 + 20 s.
      expect(await store.requests.admit(key.id, 3, T0 - 30_000)).toMatchObject({
        allowed: false,
        retryAfterMs: 50_000,
      });
      expect((await store.requests.admit(key.id, 3, T0 + 19_999)).allowed).toBe(false);
      expect((await store.requests.admit(key.id, 3, T0 + 20_000)).allowed).toBe(true);
    });

    it("keeps each key's limit apart", async () => {
      const store = await target.open();
      const a = aKey();
      const b = aKey();
      await store.keys.create(a);
      await store.keys.create(b);
      expect((await store.requests.admit(a.id, 1, T0)).allowed).toBe(true);
      expect((await store.requests.admit(a.id, 1, T0)).allowed).toBe(false);
      expect((await store.requests.admit(b.id, 1, T0)).allowed).toBe(true);
    });

    it("counts usage by UTC day and month and records the last use", async () => {
      const store = await target.open();
      const key = aKey();
      await store.keys.create(key);
      const nov30 = Date.parse("2025-11-30T23:59:00Z");
      const dec1 = Date.parse("2025-12-01T00:01:00Z");
      await store.requests.admit(key.id, 100, Date.parse("2025-11-02T08:00:00Z"));
      await store.requests.admit(key.id, 100, nov30);
      await store.requests.admit(key.id, 100, nov30);
      expect(await store.requests.usage(key.id, nov30)).toEqual({
        requestsToday: 2,
        requestsThisMonth: 3,
        lastUsed: nov30,
      });
      await store.requests.admit(key.id, 100, dec1);
      expect(await store.requests.usage(key.id, dec1)).toEqual({
        requestsToday: 1,
        requestsThisMonth: 1,
        lastUsed: dec1,
      });
      expect((await store.keys.get(key.id))?.lastUsed).toBe(dec1);
      expect(await store.requests.usage("key_unused", dec1)).toEqual({
        requestsToday: 0,
        requestsThisMonth: 0,
        lastUsed: null,
      });
    });

    it("never moves the last use back for a request decided later with an earlier time", async () => {
      const store = await target.open();
      const key = aKey();
      await store.keys.create(key);
      await store.requests.admit(key.id, 100, T0 + 5000);
      await store.requests.admit(key.id, 100, T0 + 1000);
      expect((await store.requests.usage(key.id, T0 + 5000)).lastUsed).toBe(T0 + 5000);
      expect((await store.keys.get(key.id))?.lastUsed).toBe(T0 + 5000);
    });

    it("limits a key id it holds no record of, like any other", async () => {
      const store = await target.open();
      expect((await store.requests.admit("key_norecord", 1, T0)).allowed).toBe(true);
      expect((await store.requests.admit("key_norecord", 1, T0)).allowed).toBe(false);
      expect((await store.requests.usage("key_norecord", T0)).requestsToday).toBe(1);
    });

    it("counts the whole UTC month, whatever day of it the usage is read on", async () => {
      const store = await target.open();
      const key = aKey();
      await store.keys.create(key);
      await store.requests.admit(key.id, 100, Date.parse("2025-11-20T08:00:00Z"));
      await store.requests.admit(key.id, 100, Date.parse("2025-12-01T08:00:00Z"));
      expect(await store.requests.usage(key.id, Date.parse("2025-11-15T08:00:00Z"))).toMatchObject({
        requestsToday: 0,
        requestsThisMonth: 1,
      });
    });

    it("lists a key's counts per UTC day within the range, both ends included, oldest first, leaving out empty days and other keys", async () => {
      const store = await target.open();
      const key = aKey();
      const other = aKey();
      await store.keys.create(key);
      await store.keys.create(other);
      // The range is 11-27 to 12-01. A request decided just after midnight, then one with a time just before it
      // (a clock stepped back, or another replica's): 12-01 is counted before 11-30.
      for (const at of [
        "2025-11-26T01:00:00Z",
        "2025-11-27T01:00:00Z",
        "2025-11-29T00:00:00Z",
        "2025-11-29T23:59:00Z",
        "2025-12-01T00:00:00.000Z",
        "2025-11-30T23:59:59.990Z",
        "2025-12-02T01:00:00Z",
      ]) {
        expect((await store.requests.admit(key.id, 100, Date.parse(at))).allowed).toBe(true);
      }
      await store.requests.admit(other.id, 100, Date.parse("2025-11-29T12:00:00Z"));
      expect(await store.requests.daily(key.id, "2025-11-27", "2025-12-01")).toEqual([
        { day: "2025-11-27", count: 1 },
        { day: "2025-11-29", count: 2 },
        { day: "2025-11-30", count: 1 },
        { day: "2025-12-01", count: 1 },
      ]);
      expect(await store.requests.daily("key_unused", "2025-11-01", "2025-12-31")).toEqual([]);
    });
  });
}
