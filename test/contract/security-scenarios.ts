import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../server/src/auth/key-format.js";
import { operations } from "../../server/src/generated/operations.js";
import { call } from "../support/http.js";
import type { ContractTarget } from "./target.js";

const secured = operations.filter((op) => op.auth);
const sampleIds: Record<string, string> = {
  job_id: "job_SAMPLE",
  key_id: "key_SAMPLE",
  workspace_id: "ws_SAMPLE",
  endpoint_id: "we_SAMPLE",
  delivery_id: "dlv_SAMPLE",
};
const fill = (path: string, ids: Record<string, string>) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? "x");

function expectUnauthorized(res: Awaited<ReturnType<typeof call>>) {
  expect(res.status).toBe(401);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="knify"/);
  expect(res.body.code).toBe("unauthorized");
  expect(res.body.request_id).toBe(res.headers.get("x-request-id"));
}

/**
 * The shared security cases, applied to every operation the spec declares (style.md: one helper, every
 * route), on every contract target: no key, a bad key, a revoked or expired one (401); a missing permission
 * (403); a rotated-out admin secret (403); another workspace's object (404).
 */
export function securityScenarios(target: () => ContractTarget): void {
  describe.each(secured.map((op) => [`${op.method} ${op.path}`, op] as const))("%s", (_, op) => {
    const path = fill(op.path, sampleIds);

    it("answers 401 with no key, a wrong scheme, a malformed, unknown, revoked or expired key", async () => {
      expectUnauthorized(await call(target().baseURL, op.method, path));
      expectUnauthorized(
        await call(target().baseURL, op.method, path, { headers: { Authorization: "Basic dXNlcjpwYXNz" } }),
      );
      expectUnauthorized(await call(target().baseURL, op.method, path, { key: "knify_live_abc123def456..." }));
      expectUnauthorized(await call(target().baseURL, op.method, path, { key: generateApiKey("live").apiKey }));
      const revoked = await target().seedKey();
      await call(target().baseURL, "DELETE", `/keys/${revoked.id}`, { key: target().adminKey });
      expectUnauthorized(await call(target().baseURL, op.method, path, { key: revoked.apiKey }));
      const expired = await target().seedKey({ expiresAt: Date.now() - 1 });
      expectUnauthorized(await call(target().baseURL, op.method, path, { key: expired.apiKey }));
    });
  });

  describe.each(secured.filter((op) => op.permission !== null).map((op) => [`${op.method} ${op.path}`, op] as const))(
    "%s without its permission",
    (_, op) => {
      const path = fill(op.path, sampleIds);

      it("answers 403 naming the permission", async () => {
        const other = op.permission === "jobs:read" ? "workspaces:read" : "jobs:read";
        const { apiKey } = await target().seedKey({ permissions: [other] });
        const res = await call(target().baseURL, op.method, path, { key: apiKey });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe("forbidden");
        expect(res.body.missing_permission).toBe(op.permission);
        expect(res.body.detail).toContain(op.permission as string);
      });
    },
  );

  describe.each(
    secured.filter((op) => op.permission === "admin:all").map((op) => [`${op.method} ${op.path}`, op] as const),
  )("%s with a rotated-out admin secret", (_, op) => {
    // Issue 15, item 2: a secret in its grace period makes ordinary calls only, never key administration.
    it("answers 403 before looking at the request", async () => {
      const admin = await target().seedKey({ permissions: ["admin:all"] });
      const rotated = await call(target().baseURL, "POST", `/keys/${admin.id}/rotate`, {
        key: admin.apiKey,
        body: { grace_period_seconds: 3600 },
      });
      expect(rotated.status).toBe(200);
      const res = await call(target().baseURL, op.method, fill(op.path, sampleIds), { key: admin.apiKey });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("forbidden");
      expect(res.body.detail).toContain("rotated out");
      expect((await call(target().baseURL, "GET", "/jobs", { key: admin.apiKey })).status).toBe(200);
    });
  });

  describe("objects of another workspace answer 404 to a scoped key, on every operation that names one", () => {
    const owned: Record<string, string> = {};
    beforeAll(async () => {
      const a = await target().seedKey({ workspaceId: "ws_tenant_a", permissions: ["admin:all"] });
      owned.key_id = a.id;
      const dir = mkdtempSync(join(tmpdir(), "knify-ws-"));
      mkdirSync(join(dir, "proj"));
      writeFileSync(join(dir, "proj", "README.md"), "hello\n");
      execFileSync("tar", ["-czf", join(dir, "ws.tar.gz"), "-C", dir, "proj"]);
      const form = new FormData();
      form.set("name", "tenant-a");
      form.set("workspace", new Blob([readFileSync(join(dir, "ws.tar.gz"))]), "ws.tar.gz");
      const ws = await fetch(`${target().baseURL}/workspaces`, {
        method: "POST",
        headers: { Authorization: `Bearer ${a.apiKey}` },
        body: form,
      });
      owned.workspace_id = ((await ws.json()) as { workspace_id: string }).workspace_id;
      const job = await call(target().baseURL, "POST", "/jobs", {
        key: a.apiKey,
        body: { spec: { job_type: "cursor_task", prompt: "hi" } },
      });
      owned.job_id = job.body.job_id;
      const endpoint = await call(target().baseURL, "POST", "/webhook-endpoints", {
        key: a.apiKey,
        body: { url: "http://127.0.0.1:9/hook" },
      });
      owned.endpoint_id = endpoint.body.id;
      const delivery = await call(target().baseURL, "POST", `/webhook-endpoints/${owned.endpoint_id}/test`, {
        key: a.apiKey,
      });
      owned.delivery_id = delivery.body.id;
    });

    // Bodies that pass validation, so that the answer is about the object, not the input.
    const validBodies: Record<string, object> = {
      continueJob: { spec: { prompt: "x" } },
      updateKey: { name: "x" },
      updateWebhookEndpoint: { description: "x" },
    };
    const named = secured.filter((op) => /\{/.test(op.path));
    it.each(named.map((op) => [`${op.method} ${op.path}`, op] as const))("%s", async (_, op) => {
      for (const name of op.path.match(/\{(\w+)\}/g) ?? [])
        expect(owned[name.slice(1, -1)], `fixture for ${name}`).toBeDefined();
      const b = await target().seedKey({ workspaceId: "ws_tenant_b", permissions: ["admin:all"] });
      const res = await call(target().baseURL, op.method, fill(op.path, owned), {
        key: b.apiKey,
        ...(op.body === "json" ? { body: validBodies[op.operationId] ?? {} } : {}),
      });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("not_found");
    });
  });
}
