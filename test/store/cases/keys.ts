import { describe, expect, it } from "vitest";
import { aKey, type StoreTarget, T0 } from "../target.js";

export function keyCases(target: StoreTarget): void {
  describe("keys", () => {
    it("creates a key that is found by its secret's hash, with no use and no revocation yet", async () => {
      const store = await target.open();
      const key = aKey({ workspaceId: "ws_a", expiresAt: T0 + 10_000 });
      const created = await store.keys.create(key);
      expect(created).toMatchObject({ id: key.id, name: "ci", workspaceId: "ws_a", lastUsed: null, revokedAt: null });
      expect(created?.permissions).toEqual(["jobs:read", "jobs:create"]);
      expect(await store.keys.get(key.id)).toEqual(created);
      expect(await store.keys.findBySecretHash(key.secretHash, T0)).toEqual({ ...created, secretExpiresAt: null });
      expect(await store.keys.findBySecretHash("no-such-hash", T0)).toBeNull();
      expect(await store.keys.get("key_missing")).toBeNull();
    });

    it("refuses a key past the workspace's cap of unrevoked keys, counting workspace-less keys together", async () => {
      const store = await target.open();
      expect(await store.keys.create(aKey({ workspaceId: "ws_a" }), 2)).not.toBeNull();
      const second = aKey({ workspaceId: "ws_a" });
      expect(await store.keys.create(second, 2)).not.toBeNull();
      expect(await store.keys.create(aKey({ workspaceId: "ws_a" }), 2)).toBeNull();
      expect(await store.keys.create(aKey({ workspaceId: "ws_b" }), 2)).not.toBeNull();
      await store.keys.revoke(second.id, T0);
      expect(await store.keys.create(aKey({ workspaceId: "ws_a" }), 2)).not.toBeNull();
      expect(await store.keys.create(aKey(), 1)).not.toBeNull();
      expect(await store.keys.create(aKey(), 1)).toBeNull();
      expect(await store.keys.count()).toBe(5);
    });

    it("never lets parallel creates overshoot the cap", async () => {
      const store = await target.open();
      const results = await Promise.all(
        Array.from({ length: 12 }, () => store.keys.create(aKey({ workspaceId: "ws_race" }), 5)),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(5);
    });

    it("does not authenticate a revoked or expired key", async () => {
      const store = await target.open();
      const revoked = aKey();
      await store.keys.create(revoked);
      await store.keys.revoke(revoked.id, T0 + 5);
      expect(await store.keys.findBySecretHash(revoked.secretHash, T0 + 10)).toBeNull();
      const expiring = aKey({ expiresAt: T0 + 1000 });
      await store.keys.create(expiring);
      expect(await store.keys.findBySecretHash(expiring.secretHash, T0 + 999)).not.toBeNull();
      expect(await store.keys.findBySecretHash(expiring.secretHash, T0 + 1000)).toBeNull();
    });

    it("updates only the given settings, and can clear an expiry", async () => {
      const store = await target.open();
      const key = aKey({ expiresAt: T0 + 1000 });
      await store.keys.create(key);
      const renamed = await store.keys.update(key.id, { name: "renamed" });
      expect(renamed).toMatchObject({ name: "renamed", rateLimit: 100, expiresAt: T0 + 1000 });
      const changed = await store.keys.update(key.id, {
        permissions: ["workspaces:read"],
        rateLimit: 7,
        expiresAt: null,
      });
      expect(changed).toMatchObject({
        name: "renamed",
        permissions: ["workspaces:read"],
        rateLimit: 7,
        expiresAt: null,
      });
      expect(await store.keys.update("key_missing", { name: "x" })).toBeNull();
      const expiring = await store.keys.update(key.id, { expiresAt: T0 + 5000 });
      expect(expiring).toMatchObject({ name: "renamed", rateLimit: 7, expiresAt: T0 + 5000 });
      expect((await store.keys.get(key.id))?.expiresAt).toBe(T0 + 5000);
    });

    it("lists newest first, pages by id, and filters by workspace", async () => {
      const store = await target.open();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const key = aKey({ workspaceId: i % 2 === 0 ? "ws_even" : "ws_odd" });
        await store.keys.create(key);
        ids.push(key.id);
      }
      const newest = [...ids].reverse();
      expect((await store.keys.list({ limit: 2 })).map((k) => k.id)).toEqual(newest.slice(0, 2));
      expect((await store.keys.list({ limit: 10, before: newest[1] as string })).map((k) => k.id)).toEqual(
        newest.slice(2),
      );
      const even = await store.keys.list({ limit: 10, workspaceId: "ws_even" });
      expect(even.map((k) => k.id)).toEqual([ids[4], ids[2], ids[0]]);
    });

    it("revokes once: a second revocation keeps the first time", async () => {
      const store = await target.open();
      const key = aKey();
      await store.keys.create(key);
      expect((await store.keys.revoke(key.id, T0 + 1))?.revokedAt).toBe(T0 + 1);
      expect((await store.keys.revoke(key.id, T0 + 2))?.revokedAt).toBe(T0 + 1);
      expect(await store.keys.revoke("key_missing", T0)).toBeNull();
    });

    it("rotates: the new secret works, the old one until its grace period ends", async () => {
      const store = await target.open();
      const key = aKey();
      await store.keys.create(key);
      const rotated = await store.keys.rotate(
        key.id,
        { secretHash: "new-hash", prefix: "knify_live_new" },
        T0 + 500,
        T0,
      );
      expect(rotated?.prefix).toBe("knify_live_new");
      expect((await store.keys.findBySecretHash("new-hash", T0))?.secretExpiresAt).toBeNull();
      expect((await store.keys.findBySecretHash(key.secretHash, T0 + 499))?.secretExpiresAt).toBe(T0 + 500);
      expect(await store.keys.findBySecretHash(key.secretHash, T0 + 500)).toBeNull();
      // A later rotation with a longer grace never extends an earlier secret's deadline.
      await store.keys.rotate(key.id, { secretHash: "newer-hash", prefix: "knify_live_nwr" }, T0 + 9000, T0 + 1);
      expect((await store.keys.findBySecretHash(key.secretHash, T0 + 499))?.secretExpiresAt).toBe(T0 + 500);
      expect((await store.keys.findBySecretHash("new-hash", T0 + 1))?.secretExpiresAt).toBe(T0 + 9000);
      expect(await store.keys.rotate("key_missing", { secretHash: "h", prefix: "p" }, T0, T0)).toBeNull();
    });

    it("rotating one key leaves every other key's secret as it was", async () => {
      const store = await target.open();
      const rotatedKey = aKey();
      const other = aKey();
      await store.keys.create(rotatedKey);
      await store.keys.create(other);
      await store.keys.rotate(rotatedKey.id, { secretHash: "rotated-hash", prefix: "knify_live_rot" }, T0 + 500, T0);
      const found = await store.keys.findBySecretHash(other.secretHash, T0 + 10_000);
      expect(found).toMatchObject({ id: other.id, secretExpiresAt: null, prefix: other.prefix });
    });

    it("returns copies: changing a returned record changes nothing stored", async () => {
      const store = await target.open();
      const key = aKey();
      const created = await store.keys.create(key);
      created?.permissions.push("admin:all");
      expect((await store.keys.get(key.id))?.permissions).toEqual(["jobs:read", "jobs:create"]);
    });

    it("authenticates with the key's last use, counted or not yet written, never moved back", async () => {
      const store = await target.open();
      const key = aKey();
      await store.keys.create(key);
      expect((await store.keys.findBySecretHash(key.secretHash, T0))?.lastUsed).toBeNull();
      await store.requests.admit(key.id, 100, T0 + 5);
      // A store that counts in batches (SQLite's serving mode) may not have written this use yet.
      expect((await store.keys.findBySecretHash(key.secretHash, T0 + 6))?.lastUsed).toBe(T0 + 5);
      expect((await store.keys.get(key.id))?.lastUsed).toBe(T0 + 5);
      // An earlier request counted later (a clock stepped back) leaves the last use where it was.
      await store.requests.admit(key.id, 100, T0 + 3);
      expect((await store.keys.findBySecretHash(key.secretHash, T0 + 7))?.lastUsed).toBe(T0 + 5);
      await store.requests.admit(key.id, 100, T0 + 9);
      expect((await store.keys.findBySecretHash(key.secretHash, T0 + 10))?.lastUsed).toBe(T0 + 9);
    });
  });
}
