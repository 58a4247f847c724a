import { describe, expect, it } from "vitest";
import { type StoreTarget, T0 } from "../target.js";

const TTL = 24 * 60 * 60 * 1000;
const LEASE = { owner: "replica-a", leaseMs: 1000 };
const RESPONSE = { status: 201, body: '{"id":"job_1"}', contentType: "application/json" };

export function idempotencyCases(target: StoreTarget): void {
  describe("idempotency", () => {
    it("claims a key once; the next claim sees the unfinished first one, then its stored response", async () => {
      const store = await target.open();
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0, TTL, LEASE)).toBeNull();
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0 + 1, TTL, LEASE)).toEqual({
        fingerprint: "fp",
        response: null,
      });
      await store.idempotency.complete("key_a", "k1", RESPONSE);
      expect(await store.idempotency.claim("key_a", "k1", "other", T0 + 2, TTL, LEASE)).toEqual({
        fingerprint: "fp",
        response: RESPONSE,
      });
    });

    it("keeps scopes apart", async () => {
      const store = await target.open();
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0, TTL, LEASE)).toBeNull();
      expect(await store.idempotency.claim("key_b", "k1", "fp", T0, TTL, LEASE)).toBeNull();
    });

    it("forgets a key after its TTL", async () => {
      const store = await target.open();
      await store.idempotency.claim("key_a", "k1", "fp", T0, 1000, LEASE);
      await store.idempotency.complete("key_a", "k1", RESPONSE);
      expect((await store.idempotency.claim("key_a", "k1", "fp", T0 + 999, 1000, LEASE))?.response).toEqual(RESPONSE);
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0 + 1000, 1000, LEASE)).toBeNull();
    });

    it("lets the same request take over a claim whose lease ran out, and no other request", async () => {
      const store = await target.open();
      await store.idempotency.claim("key_a", "k1", "fp", T0, TTL, LEASE);
      const other = { owner: "replica-b", leaseMs: 1000 };
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0 + 999, TTL, other)).not.toBeNull();
      expect(await store.idempotency.claim("key_a", "k1", "different", T0 + 1000, TTL, other)).toEqual({
        fingerprint: "fp",
        response: null,
      });
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0 + 1000, TTL, other)).toBeNull();
      // replica-b holds it now: replica-a can no longer renew it.
      await store.idempotency.renew("key_a", "k1", LEASE, T0 + 1500);
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0 + 2000, TTL, LEASE)).toBeNull();
    });

    it("renews only its owner's lease", async () => {
      const store = await target.open();
      await store.idempotency.claim("key_a", "k1", "fp", T0, TTL, LEASE);
      await store.idempotency.renew("key_a", "k1", LEASE, T0 + 900);
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0 + 1500, TTL, LEASE)).not.toBeNull();
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0 + 1900, TTL, LEASE)).toBeNull();
    });

    it("releases an unfinished claim so a retry runs, but never a stored response", async () => {
      const store = await target.open();
      await store.idempotency.claim("key_a", "k1", "fp", T0, TTL, LEASE);
      await store.idempotency.release("key_a", "k1");
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0, TTL, LEASE)).toBeNull();
      await store.idempotency.complete("key_a", "k1", RESPONSE);
      await store.idempotency.release("key_a", "k1");
      expect((await store.idempotency.claim("key_a", "k1", "fp", T0, TTL, LEASE))?.response).toEqual(RESPONSE);
    });

    it("releases every unfinished claim of one owner at start", async () => {
      const store = await target.open();
      await store.idempotency.claim("key_a", "k1", "fp", T0, TTL, LEASE);
      await store.idempotency.claim("key_a", "k2", "fp", T0, TTL, LEASE);
      await store.idempotency.claim("key_a", "k3", "fp", T0, TTL, { owner: "replica-b", leaseMs: 1000 });
      await store.idempotency.claim("key_a", "k4", "fp", T0, TTL, LEASE);
      await store.idempotency.complete("key_a", "k4", RESPONSE);
      expect(await store.idempotency.releaseOwnedBy("replica-a")).toBe(2);
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0, TTL, LEASE)).toBeNull();
      expect(await store.idempotency.claim("key_a", "k3", "fp", T0, TTL, LEASE)).not.toBeNull();
      expect((await store.idempotency.claim("key_a", "k4", "fp", T0, TTL, LEASE))?.response).toEqual(RESPONSE);
    });

    it("keeps a taken-over claim for the whole TTL, so its response is replayed once stored", async () => {
      const store = await target.open();
      await store.idempotency.claim("key_a", "k1", "fp", T0, TTL, LEASE);
      const other = { owner: "replica-b", leaseMs: 1000 };
      // The lease ran out: the same request takes the claim over, and finishes.
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0 + 1000, TTL, other)).toBeNull();
      await store.idempotency.complete("key_a", "k1", RESPONSE);
      expect(await store.idempotency.claim("key_a", "k1", "fp", T0 + 2000, TTL, LEASE)).toEqual({
        fingerprint: "fp",
        response: RESPONSE,
      });
      expect((await store.idempotency.claim("key_a", "k1", "fp", T0 + 1000 + TTL - 1, TTL, LEASE))?.response).toEqual(
        RESPONSE,
      );
    });

    it("ignores renewing, completing or releasing a claim it does not hold", async () => {
      const store = await target.open();
      await store.idempotency.renew("key_a", "never", LEASE, T0);
      await store.idempotency.complete("key_a", "never", RESPONSE);
      await store.idempotency.release("key_a", "never");
      // Nothing was stored by the complete: the key is free for a first claim.
      expect(await store.idempotency.claim("key_a", "never", "fp", T0, TTL, LEASE)).toBeNull();
      await store.idempotency.release("key_a", "never");
      await store.idempotency.complete("key_a", "never", RESPONSE);
      expect(await store.idempotency.claim("key_a", "never", "fp", T0, TTL, LEASE)).toBeNull();
    });

    it("replaces an expired record even when many others expired with it", async () => {
      const store = await target.open();
      // More expired records than one sweep removes (100 in PostgreSQL): the claimed one must go regardless.
      for (let i = 0; i < 150; i++) await store.idempotency.claim("key_a", `k${i}`, "fp", T0, 1000, LEASE);
      expect(await store.idempotency.claim("key_a", "k149", "other", T0 + 1000, TTL, LEASE)).toBeNull();
      expect(await store.idempotency.claim("key_a", "k148", "other", T0 + 1000, TTL, LEASE)).toBeNull();
    });

    it("gives a key to exactly one of many parallel claims", async () => {
      const store = await target.open();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          store.idempotency.claim("key_a", "race", "fp", T0, TTL, { owner: `r${i}`, leaseMs: 1000 }),
        ),
      );
      expect(results.filter((r) => r === null)).toHaveLength(1);
    });
  });
}
