import { BadRequestError, ConflictError, PermissionDeniedError } from "@knify/sdk";
import { describe, expect, it } from "vitest";
import type { ContractTarget } from "./target.js";

/**
 * Contract scenarios for the two PATCH operations and the rules of key administration (issue 8 item 5,
 * issue 15 items 2 and 3), run against every target next to `contractScenarios`.
 */
export function updateScenarios(target: () => ContractTarget): void {
  const admin = () => target().client(target().adminKey);
  const unique = () => Math.random().toString(36).slice(2, 10);
  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (e: unknown) => e,
    );

  describe("client.keys.update", () => {
    it("changes name, permissions and rate limit in place; the next request obeys them", async () => {
      const created = await admin().keys.create({ name: "before", permissions: ["jobs:read"] });
      const client = target().client(created.api_key);
      await expect(client.jobs.list()).resolves.toBeInstanceOf(Array);

      const updated = await admin().keys.update(created.key_id, {
        name: "after",
        permissions: ["workspaces:read"],
        rate_limit: 7,
      });
      expect(updated).toMatchObject({
        key_id: created.key_id,
        name: "after",
        permissions: ["workspaces:read"],
        rate_limit: 7,
      });
      expect(updated).not.toHaveProperty("api_key");

      const error = await rejection(client.jobs.list());
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect((error as PermissionDeniedError).missingPermission).toBe("jobs:read");
      await expect(client.keys.verify()).resolves.toMatchObject({ permissions: ["workspaces:read"], rate_limit: 7 });
      await expect(admin().keys.get(created.key_id)).resolves.toMatchObject({ name: "after" });
    });

    it("refuses an empty change (BadRequestError) and a revoked key (ConflictError)", async () => {
      const created = await admin().keys.create({ name: "k" });
      expect(await rejection(admin().keys.update(created.key_id, {} as never))).toBeInstanceOf(BadRequestError);
      await admin().keys.revoke(created.key_id);
      const error = await rejection(admin().keys.update(created.key_id, { name: "again" }));
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe("key_revoked");
    });

    it("never makes a key more than its caller: another type or a higher limit is PermissionDeniedError", async () => {
      const testAdmin = target().client(target().testAdminKey);
      expect(await rejection(testAdmin.keys.create({ name: "live", type: "live" }))).toBeInstanceOf(
        PermissionDeniedError,
      );
      const made = await testAdmin.keys.create({ name: "made", workspace_id: `ws_grant_${unique()}` });
      expect(made.type).toBe("test");
      const own = await testAdmin.keys.verify();
      const error = await rejection(testAdmin.keys.update(made.key_id, { rate_limit: own.rate_limit + 1 }));
      expect(error).toBeInstanceOf(PermissionDeniedError);

      const live = await admin().keys.create({ name: "live" });
      expect(await rejection(testAdmin.keys.update(live.key_id, { name: "taken" }))).toBeInstanceOf(
        PermissionDeniedError,
      );
    });

    it("a rotated-out secret cannot administer keys, while ordinary calls still work", async () => {
      const owner = await admin().keys.create({ name: "owner", permissions: ["admin:all"] });
      const rotated = await admin().keys.rotate(owner.key_id, { grace_period_seconds: 3600 });
      const old = target().client(owner.api_key);
      await expect(old.keys.verify()).resolves.toMatchObject({ key_id: owner.key_id });
      await expect(old.jobs.list()).resolves.toBeInstanceOf(Array);
      const lockout = await rejection(old.keys.rotate(owner.key_id, { grace_period_seconds: 0 }));
      expect(lockout).toBeInstanceOf(PermissionDeniedError);
      expect(await rejection(old.keys.create({ name: "backdoor" }))).toBeInstanceOf(PermissionDeniedError);
      await expect(target().client(rotated.api_key).keys.create({ name: "fine" })).resolves.toMatchObject({
        name: "fine",
      });
    });
  });

  describe("client.webhookEndpoints.update", () => {
    it("changes url, event types and description, pauses and re-enables the endpoint", async () => {
      const client = admin();
      const created = await client.webhookEndpoints.create({
        url: "http://127.0.0.1:9/first",
        workspace_id: `ws_patch_${unique()}`,
      });
      const changed = await client.webhookEndpoints.update(created.id, {
        url: "http://127.0.0.1:9/second",
        event_types: ["job.completed"],
        description: "CI",
      });
      expect(changed).toMatchObject({
        id: created.id,
        url: "http://127.0.0.1:9/second",
        event_types: ["job.completed"],
        description: "CI",
        enabled: true,
      });
      expect(changed).not.toHaveProperty("secret");

      const paused = await client.webhookEndpoints.update(created.id, { enabled: false });
      expect(paused.enabled).toBe(false);
      expect(paused.disabled_reason).toEqual(expect.any(String));
      const resumed = await client.webhookEndpoints.update(created.id, { enabled: true, description: null });
      expect(resumed).toMatchObject({ enabled: true, disabled_reason: null, description: null });
      await expect(client.webhookEndpoints.get(created.id)).resolves.toMatchObject({
        enabled: true,
        description: null,
      });
    });

    it("refuses a URL another endpoint of the workspace already has (ConflictError webhook_url_exists)", async () => {
      const client = admin();
      const workspace_id = `ws_patch_${unique()}`;
      await client.webhookEndpoints.create({ url: "http://127.0.0.1:9/taken", workspace_id });
      const other = await client.webhookEndpoints.create({ url: "http://127.0.0.1:9/free", workspace_id });
      const error = await rejection(client.webhookEndpoints.update(other.id, { url: "http://127.0.0.1:9/taken" }));
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe("webhook_url_exists");
      // Its own URL is no conflict.
      await expect(client.webhookEndpoints.update(other.id, { url: "http://127.0.0.1:9/free" })).resolves.toMatchObject(
        {
          url: "http://127.0.0.1:9/free",
        },
      );
    });

    it("refuses a URL that is not http(s) (BadRequestError)", async () => {
      const client = admin();
      const created = await client.webhookEndpoints.create({
        url: "http://127.0.0.1:9/hook",
        workspace_id: `ws_patch_${unique()}`,
      });
      expect(await rejection(client.webhookEndpoints.update(created.id, { url: "ftp://example.com/" }))).toBeInstanceOf(
        BadRequestError,
      );
    });
  });
}
