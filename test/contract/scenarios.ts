import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  APIError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  GoneError,
  JobFailedError,
  type KnifyClient,
  NotFoundError,
  PermissionDeniedError,
  UnprocessableEntityError,
} from "@knify/sdk";
import { afterEach, describe, expect, it } from "vitest";
import type { ContractTarget } from "./target.js";

type Permission = NonNullable<Parameters<KnifyClient["keys"]["create"]>[0]["permissions"]>;

/**
 * The one behavioural suite: every scenario runs against every target (style.md principle 6).
 * Scenarios use only the SDK's public surface and each seeds its own state through the API.
 */
export function contractScenarios(target: () => ContractTarget): void {
  const admin = () => target().client(target().adminKey);
  /** A new key made through the API, and a client for it. */
  const keyed = async (body: { workspace_id?: string; permissions?: Permission; type?: "live" | "test" } = {}) => {
    // A key makes keys of its own type only, so test keys come from the test admin.
    const creator = target().client(body.type === "test" ? target().testAdminKey : target().adminKey);
    const created = await creator.keys.create({ name: "contract", ...body });
    return { key: created, client: target().client(created.api_key) };
  };
  const wait = { pollInterval: 10, timeout: 10_000 };
  const unique = () => Math.random().toString(36).slice(2, 10);

  afterEach(() => {
    const { violations } = target();
    const seen = violations.splice(0);
    expect(seen, "responses that break the spec").toEqual([]);
  });

  describe("client.health()", () => {
    it("answers ok with the version", async () => {
      const health = await admin().health();
      expect(health.status).toBe("ok");
      expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
    });
  });

  describe("unknown paths and methods", () => {
    it("answers a problem+json 404 with a request id for a path the API does not have", async () => {
      const error = await admin()
        .request("GET", "/no-such-thing")
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).code).toBe("not_found");
      expect((error as NotFoundError).requestId).toBeTruthy();
    });

    it("answers 405 with Allow for a method the path does not have", async () => {
      const error = (await admin()
        .request("PUT", "/jobs")
        .then(
          () => null,
          (e: unknown) => e,
        )) as APIError;
      expect(error).toBeInstanceOf(APIError);
      expect(error.status).toBe(405);
      expect(error.headers.get("allow")).toMatch(/GET/);
    });
  });

  describe("client.keys", () => {
    it("creates a key whose secret works, verifies it, shows it without the secret, and lists it", async () => {
      const { key, client } = await keyed({ permissions: ["jobs:read"] });
      expect(key.api_key).toMatch(/^knify_live_/);
      const verified = await client.keys.verify();
      expect(verified).toMatchObject({ valid: true, key_id: key.key_id, permissions: ["jobs:read"] });
      const shown = await admin().keys.get(key.key_id);
      expect(shown).not.toHaveProperty("api_key");
      const ids: string[] = [];
      for await (const k of admin().keys.list({ limit: 2 })) ids.push(k.key_id);
      expect(ids).toContain(key.key_id);
    });

    it("counts usage and lets a key read its own record", async () => {
      const { key, client } = await keyed({ permissions: ["jobs:read"] });
      await client.keys.verify();
      const usage = await client.keys.usage(key.key_id);
      expect(usage.key_id).toBe(key.key_id);
      expect(usage.requests_today).toBeGreaterThanOrEqual(1);
      expect(usage.requests_this_month).toBeGreaterThanOrEqual(usage.requests_today);
      expect(usage.last_used).not.toBeNull();
      expect(usage).not.toHaveProperty("daily");
      const { daily } = await client.keys.usage(key.key_id, { days: 3 });
      expect(daily).toHaveLength(3);
      expect(daily?.at(-1)?.requests).toBeGreaterThanOrEqual(2); // verify and the usage call before this one
    });

    it("rotates: the new secret works and so does the old one during the grace period", async () => {
      const { key, client } = await keyed();
      const rotated = await admin().keys.rotate(key.key_id, { grace_period_seconds: 3600 });
      expect(rotated.key_id).toBe(key.key_id);
      expect(rotated.api_key).not.toBe(key.api_key);
      await expect(client.keys.verify()).resolves.toMatchObject({ key_id: key.key_id });
      await expect(target().client(rotated.api_key).keys.verify()).resolves.toMatchObject({ key_id: key.key_id });
    });

    it("shows a secret once: replaying its Idempotency-Key is a ConflictError secret_already_shown with the id", async () => {
      const idempotencyKey = `contract-secret-${unique()}`;
      const created = await admin().keys.create({ name: "once" }, { idempotencyKey });
      const { response } = await admin()
        .keys.create({ name: "once" }, { idempotencyKey: `${idempotencyKey}-h` })
        .withResponse();
      expect(response.headers.get("cache-control")).toBe("no-store");
      const replay = await admin()
        .keys.create({ name: "once" }, { idempotencyKey })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(replay).toBeInstanceOf(ConflictError);
      expect((replay as ConflictError).code).toBe("secret_already_shown");
      expect((replay as ConflictError).problem?.resource_id).toBe(created.key_id);
      expect(JSON.stringify((replay as ConflictError).problem)).not.toContain(created.api_key);
    });

    it("revokes: the next request with the key is an AuthenticationError", async () => {
      const { key, client } = await keyed();
      const revoked = await admin().keys.revoke(key.key_id);
      expect(revoked.revoked_at).not.toBeNull();
      await expect(client.keys.verify()).rejects.toBeInstanceOf(AuthenticationError);
    });

    it("exposes the request id and rate-limit headers through withResponse()", async () => {
      const { key, client } = await keyed();
      const { data, requestId, rateLimit, response } = await client.keys.verify().withResponse();
      expect(data.key_id).toBe(key.key_id);
      expect(requestId).toBe(response.headers.get("x-request-id"));
      expect(rateLimit.limit).toBe(key.rate_limit);
      expect(rateLimit.remaining).toBeLessThan(rateLimit.limit ?? 0);
      expect(rateLimit.reset).toBeInstanceOf(Date);
      expect(rateLimit.reset?.getTime() ?? 0).toBeGreaterThan(Date.now() - 60_000);
    });

    it("refuses a key without the permission with PermissionDeniedError naming it", async () => {
      const { client } = await keyed({ permissions: ["jobs:read"] });
      const error = await client.keys.create({ name: "nope" }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect((error as PermissionDeniedError).missingPermission).toBe("admin:all");
    });
  });

  describe("client.jobs", () => {
    it("creates a job and waits for it to complete, with gapless events", async () => {
      const { client } = await keyed({ type: "test" });
      const handle = await client.jobs.create({ job_type: "cursor_task", prompt: "Hello" });
      expect(handle.job_id).toMatch(/^job_/);
      const job = await client.jobs.waitFor(handle.job_id, wait);
      expect(job.status).toBe("completed");
      expect(job.spec).toMatchObject({ job_type: "cursor_task", prompt: "Hello", model: "auto" });
      expect(job.completed_at).not.toBeNull();
      const events = [];
      for await (const event of client.jobs.events(job.id, { limit: 2 })) events.push(event);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.some((e) => e.type === "status" && e.data.status === "completed")).toBe(true);
    });

    it("reports a failed job through JobFailedError with its error", async () => {
      const { client } = await keyed({ type: "test" });
      const error = await client.jobs
        .createAndWait({ job_type: "cursor_task", prompt: "Break", metadata: { simulate: "fail" } }, wait)
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(JobFailedError);
      expect((error as JobFailedError).job.status).toBe("failed");
      expect((error as JobFailedError).job.error).toBeTruthy();
    });

    it("continues the same job three times, keeping its id and session", async () => {
      const { client } = await keyed({ type: "test" });
      const first = await client.jobs.createAndWait({ job_type: "cursor_task", prompt: "Turn 1" }, wait);
      for (const turn of [2, 3, 4]) {
        const handle = await client.jobs.continue(first.id, { prompt: `Turn ${turn}` });
        expect(handle.job_id).toBe(first.id);
        const job = await client.jobs.waitFor(first.id, wait);
        expect(job.status).toBe("completed");
        expect(job.turns).toBe(turn);
        expect(job.sandbox_id).toBe(first.sandbox_id);
        expect(job.cursor_session_id).toBe(first.cursor_session_id);
      }
    });

    it("continueAndWait resolves with the turn it started; a stream from now sees nothing of the ended turns", async () => {
      const { client } = await keyed({ type: "test" });
      const first = await client.jobs.createAndWait({ job_type: "cursor_task", prompt: "Turn 1" }, wait);
      const second = await client.jobs.continueAndWait(first.id, { prompt: "Turn 2" }, wait);
      expect(second).toMatchObject({ id: first.id, status: "completed", turns: 2 });
      const after: unknown[] = [];
      for await (const event of client.jobs.events.stream(first.id, { after: "now" })) after.push(event);
      expect(after).toEqual([]);
    });

    it("cleans up a job; continuing it afterwards is a ConflictError", async () => {
      const { client } = await keyed({ type: "test" });
      const job = await client.jobs.createAndWait({ job_type: "cursor_task", prompt: "Hello" }, wait);
      const cleaned = await client.jobs.cleanup(job.id);
      expect(cleaned.cleaned_up_at).not.toBeNull();
      expect(cleaned.sandbox_id).toBeNull();
      const error = await client.jobs.continue(job.id, { prompt: "again" }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe("job_not_continuable");
    });

    it("continues with the docs' body, job_type included; another job_type or an unknown field is a BadRequestError", async () => {
      const { client } = await keyed({ type: "test" });
      const first = await client.jobs.createAndWait(
        { job_type: "cursor_task", prompt: "Analyze this codebase and identify bottlenecks" },
        wait,
      );
      // The Advanced Usage page's step 2, as written.
      const handle = await client.jobs.continue(first.id, {
        job_type: "cursor_task",
        prompt: "Based on your analysis, implement optimizations",
      });
      expect(handle.job_id).toBe(first.id);
      expect((await client.jobs.waitFor(first.id, wait)).turns).toBe(2);

      const other = await client.jobs.continue(first.id, { job_type: "gemini_task", prompt: "x" }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(other).toBeInstanceOf(BadRequestError);
      expect((other as BadRequestError).message).toContain("gemini_task");
      expect((other as BadRequestError).message).toContain("cursor_task");
      expect((other as BadRequestError).problem?.errors?.[0]?.path).toBe("/spec/job_type");
      const unknown = await client
        .request("POST", `/jobs/${first.id}/continue`, { body: { spec: { prompt: "x", priority: "high" } } })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(unknown).toBeInstanceOf(BadRequestError);
      expect((await client.jobs.get(first.id)).turns).toBe(2);
    });

    it("cancels a running job: failed with error.code cancelled, then continued in the same sandbox", async () => {
      const { client } = await keyed({ type: "test" });
      const { job_id } = await client.jobs.create({
        job_type: "cursor_task",
        prompt: "Hold",
        metadata: { simulate: "hold" },
      });
      let running = await client.jobs.get(job_id);
      while (running.status !== "running") {
        await new Promise((resolve) => setTimeout(resolve, 10));
        running = await client.jobs.get(job_id);
      }
      const cancelled = await client.jobs.cancel(job_id);
      expect(cancelled).toMatchObject({ id: job_id, status: "failed", error: { code: "cancelled" } });
      const failed = await client.jobs.waitFor(job_id, wait).then(
        () => null,
        (e: unknown) => e,
      );
      expect(failed).toBeInstanceOf(JobFailedError);
      expect((failed as JobFailedError).error?.code).toBe("cancelled");

      await client.jobs.continue(job_id, { prompt: "Go on", metadata: {} });
      const done = await client.jobs.waitFor(job_id, wait);
      expect(done).toMatchObject({ status: "completed", turns: 2, sandbox_id: running.sandbox_id });
      const again = await client.jobs.cancel(job_id).then(
        () => null,
        (e: unknown) => e,
      );
      expect(again).toBeInstanceOf(ConflictError);
      expect((again as ConflictError).status).toBe(409);
    });

    it("lists every problem of an invalid spec in one BadRequestError", async () => {
      const { client } = await keyed({ type: "test" });
      const error = (await client.jobs.create({ job_type: "user_exam" } as never).then(
        () => null,
        (e: unknown) => e,
      )) as BadRequestError;
      expect(error).toBeInstanceOf(BadRequestError);
      const paths = error.errors?.map((e) => e.message).join(" ") ?? "";
      expect(paths).toMatch(/user_id/);
      expect(paths).toMatch(/time_range/);
    });

    it("returns the first job for a retried Idempotency-Key, and refuses the key for another body", async () => {
      const { client } = await keyed({ type: "test" });
      const idempotencyKey = `contract-${unique()}`;
      const a = await client.jobs.create({ job_type: "cursor_task", prompt: "once" }, { idempotencyKey });
      const b = await client.jobs.create({ job_type: "cursor_task", prompt: "once" }, { idempotencyKey });
      expect(b.job_id).toBe(a.job_id);
      const error = await client.jobs.create({ job_type: "cursor_task", prompt: "other" }, { idempotencyKey }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnprocessableEntityError);
    });

    it("pages the job list newest first and filters by status", async () => {
      const { client } = await keyed({ type: "test", workspace_id: `ws_list_${unique()}` });
      const ids = [];
      for (let i = 0; i < 3; i++)
        ids.push((await client.jobs.create({ job_type: "cursor_task", prompt: `n${i}` })).job_id);
      const seen = [];
      for await (const job of client.jobs.list({ limit: 2 })) seen.push(job.id);
      expect(seen).toEqual([...ids].reverse());
      for (const id of ids) await client.jobs.waitFor(id, wait);
      const completed = await client.jobs.list({ status: "completed" });
      expect(completed.every((j) => j.status === "completed")).toBe(true);
      expect(completed).toHaveLength(3);
    });

    it("streams a job's events live until it ends", async () => {
      const { client } = await keyed({ type: "test" });
      const { job_id } = await client.jobs.create({ job_type: "cursor_task", prompt: "stream me" });
      const seen = [];
      for await (const event of client.jobs.events.stream(job_id)) seen.push(event);
      expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
      expect(seen.at(-1)).toMatchObject({ type: "status", data: { status: "completed" } });
    });

    it("hides another workspace's job from a scoped key (NotFoundError)", async () => {
      const a = await keyed({ type: "test", workspace_id: `ws_a_${unique()}` });
      const b = await keyed({ type: "test", workspace_id: `ws_b_${unique()}` });
      const { job_id } = await a.client.jobs.create({ job_type: "cursor_task", prompt: "mine" });
      await expect(b.client.jobs.get(job_id)).rejects.toBeInstanceOf(NotFoundError);
      expect((await b.client.jobs.list()).map((j) => j.id)).not.toContain(job_id);
    });
  });

  describe("client.workspaces", () => {
    const makeDir = () => {
      const dir = mkdtempSync(join(tmpdir(), "knify-contract-"));
      mkdirSync(join(dir, "src"));
      writeFileSync(join(dir, "README.md"), "# project\n");
      writeFileSync(join(dir, "src", "main.ts"), "console.log('hi');\n");
      return dir;
    };

    it("uploads a directory, shows it, lists it, replaces it and deletes it", async () => {
      const { client } = await keyed();
      const name = `proj-${unique()}`;
      const ws = await client.workspaces.upload({ name, path: makeDir() });
      expect(ws).toMatchObject({ name, path: `/workspaces/${name}` });
      expect(ws.workspace_id).toMatch(/^ws_/);
      expect((await client.workspaces.get(ws.workspace_id)).name).toBe(name);
      const listed = [];
      for await (const w of client.workspaces.list()) listed.push(w.workspace_id);
      expect(listed).toContain(ws.workspace_id);
      const replaced = await client.workspaces.replace(ws.workspace_id, { path: makeDir() });
      expect(replaced.workspace_id).toBe(ws.workspace_id);
      await client.workspaces.delete(ws.workspace_id);
      await expect(client.workspaces.get(ws.workspace_id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it("refuses a duplicate name with ConflictError", async () => {
      const { client } = await keyed();
      const name = `dup-${unique()}`;
      await client.workspaces.upload({ name, path: makeDir() });
      const error = await client.workspaces.upload({ name, path: makeDir() }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe("workspace_exists");
    });

    it("lets a job name its workspace by path", async () => {
      const { client } = await keyed({ type: "test" });
      const name = `jobws-${unique()}`;
      const ws = await client.workspaces.upload({ name, path: makeDir() });
      const job = await client.jobs.createAndWait(
        { job_type: "cursor_task", prompt: "x", workspace_path: ws.path },
        wait,
      );
      expect(job.workspace_id).toBe(ws.workspace_id);
    });

    it("gives a job's sandbox as an archive and its changes; 404 for another workspace, 410 after cleanup", async () => {
      const workspace_id = `ws_left_${unique()}`;
      const { client } = await keyed({ type: "test", workspace_id });
      const ws = await client.workspaces.upload({ name: `left-${unique()}`, path: makeDir() });
      // A test key's simulated job gets an empty sandbox unless it asks for a copy of its workspace.
      const job = await client.jobs.createAndWait(
        { job_type: "cursor_task", prompt: "x", workspace_path: ws.path, metadata: { simulate_sandbox: "copy" } },
        wait,
      );

      const dir = join(mkdtempSync(join(tmpdir(), "knify-contract-out-")), "out");
      await client.jobs.archive.extractTo(job.id, dir);
      expect(readFileSync(join(dir, "README.md"), "utf8")).toBe("# project\n");
      expect(readFileSync(join(dir, "src", "main.ts"), "utf8")).toBe("console.log('hi');\n");
      // The simulated agent changes nothing.
      expect(await client.jobs.changes(job.id)).toEqual([]);

      const { client: stranger } = await keyed({ type: "test", workspace_id: `ws_stranger_${unique()}` });
      await expect(stranger.jobs.archive(job.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(stranger.jobs.changes(job.id)).rejects.toBeInstanceOf(NotFoundError);

      await client.jobs.cleanup(job.id);
      // One call at a time: a second promise made up front would reject unobserved while the first is awaited.
      for (const call of [() => client.jobs.archive(job.id), () => client.jobs.changes(job.id)]) {
        const error = await call().then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(GoneError);
        expect((error as GoneError).code).toBe("job_cleaned_up");
      }
    });

    it("refuses an upload that is not a usable multipart .tar.gz, with the problem's code", async () => {
      const { key } = await keyed();
      const gzip = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      const upload = async (parts: [string, string | Blob][], contentType?: string) => {
        const form = new FormData();
        for (const [name, value] of parts) form.append(name, value as string);
        const body = contentType === undefined ? form : "workspace=x";
        const headers: Record<string, string> = { authorization: `Bearer ${key.api_key}` };
        if (contentType !== undefined) headers["content-type"] = contentType;
        const response = await fetch(`${target().baseURL}/workspaces`, { method: "POST", headers, body });
        return { status: response.status, code: ((await response.json()) as { code?: string }).code };
      };
      const file = (bytes: Uint8Array) => new Blob([bytes as Uint8Array<ArrayBuffer>]);
      expect(
        await upload([
          ["name", `x-${unique()}`],
          ["workspace", file(new TextEncoder().encode("plain"))],
        ]),
      ).toEqual({ status: 400, code: "invalid_archive" });
      expect(await upload([["workspace", file(gzip)]])).toEqual({ status: 400, code: "validation_failed" });
      expect(
        await upload([
          ["name", "../bad"],
          ["workspace", file(gzip)],
        ]),
      ).toEqual({
        status: 400,
        code: "validation_failed",
      });
      expect(await upload([], "text/plain")).toEqual({ status: 415, code: "unsupported_media_type" });
    });

    it("tarballs made by the system tar are accepted too", async () => {
      const { client } = await keyed();
      const dir = makeDir();
      const archive = join(tmpdir(), `ws-${unique()}.tar.gz`);
      execFileSync("tar", ["-czf", archive, "-C", dir, "."]);
      const { readFileSync } = await import("node:fs");
      const ws = await client.workspaces.upload({ name: `tar-${unique()}`, data: readFileSync(archive) });
      expect(ws.workspace_id).toMatch(/^ws_/);
    });
  });

  describe("client.webhookEndpoints", () => {
    it("creates an endpoint (secret once), sends a test delivery, lists and redelivers it, and deletes", async () => {
      const workspace_id = `ws_hooks_${unique()}`;
      const { client } = await keyed({ workspace_id });
      const endpoint = await client.webhookEndpoints.create({
        url: "http://127.0.0.1:9/hook",
        event_types: ["job.completed"],
      });
      expect(endpoint.secret).toMatch(/^whsec_/);
      expect(endpoint.workspace_id).toBe(workspace_id);
      const shown = await client.webhookEndpoints.get(endpoint.id);
      expect(shown).not.toHaveProperty("secret");
      expect((await client.webhookEndpoints.list()).map((e) => e.id)).toContain(endpoint.id);
      const delivery = await client.webhookEndpoints.test(endpoint.id);
      expect(delivery).toMatchObject({ endpoint_id: endpoint.id, event_type: "webhook.test" });
      const deliveries = await client.webhookEndpoints.deliveries(endpoint.id);
      expect(deliveries.map((d) => d.id)).toContain(delivery.id);
      const again = await client.webhookEndpoints.redeliver(endpoint.id, delivery.id);
      expect(again.event_id).toBe(delivery.event_id);
      await client.webhookEndpoints.delete(endpoint.id);
      await expect(client.webhookEndpoints.get(endpoint.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it("keeps one endpoint per URL and at most 20 per workspace (409)", async () => {
      const { client } = await keyed({ workspace_id: `ws_hooks_${unique()}` });
      await client.webhookEndpoints.create({ url: "http://127.0.0.1:9/hook-0" });
      const duplicate = await client.webhookEndpoints.create({ url: "http://127.0.0.1:9/hook-0" }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(duplicate).toBeInstanceOf(ConflictError);
      expect((duplicate as ConflictError).code).toBe("webhook_url_exists");
      for (let i = 1; i < 20; i++) await client.webhookEndpoints.create({ url: `http://127.0.0.1:9/hook-${i}` });
      const over = await client.webhookEndpoints.create({ url: "http://127.0.0.1:9/hook-20" }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(over).toBeInstanceOf(ConflictError);
      expect((over as ConflictError).code).toBe("webhook_endpoint_limit");
    });

    it("needs a workspace for a key without one", async () => {
      const error = await admin()
        .webhookEndpoints.create({ url: "http://127.0.0.1:9/hook" })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(BadRequestError);
    });
  });
}
