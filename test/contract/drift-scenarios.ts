import { BadRequestError, ConflictError, type KnifyClient, NotFoundError } from "@knify/sdk";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import type { ContractTarget } from "./target.js";

/** The rejection of a call, or null when it succeeded. */
const failure = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

/**
 * Issue 9's table of requests the mock and the server once answered differently (every test still passed),
 * and the scoped administrator they were about. Each runs on both targets, so a copy of a rule that drifts
 * fails here; the server's answer is the reference.
 */
export function driftScenarios(target: () => ContractTarget): void {
  const client = (apiKey: string): KnifyClient => target().client(apiKey);
  const admin = () => client(target().adminKey);
  const unique = () => Math.random().toString(36).slice(2, 10);
  const wait = { pollInterval: 10, timeout: 10_000 };

  /** An `admin:all` key scoped to a new workspace, another workspace's key, and a client for the first. */
  async function scopedAdministrator() {
    const own = `ws_own_${unique()}`;
    const other = `ws_other_${unique()}`;
    const scoped = await admin().keys.create({ name: "scoped admin", workspace_id: own, permissions: ["admin:all"] });
    const foreign = await admin().keys.create({ name: "foreign", workspace_id: other });
    return { own, other, foreign, scoped: client(scoped.api_key), scopedId: scoped.key_id };
  }

  describe("a workspace-scoped admin:all key (issue 9, drift table)", () => {
    it("gets a NotFoundError for another workspace's key, as for one that does not exist", async () => {
      const { scoped, foreign } = await scopedAdministrator();
      expect(await failure(scoped.keys.get(foreign.key_id))).toBeInstanceOf(NotFoundError);
      expect(await failure(scoped.keys.revoke(foreign.key_id))).toBeInstanceOf(NotFoundError);
      expect(await failure(scoped.keys.usage(foreign.key_id))).toBeInstanceOf(NotFoundError);
      expect(await failure(scoped.keys.rotate(foreign.key_id))).toBeInstanceOf(NotFoundError);
      // The key itself is untouched.
      expect((await admin().keys.get(foreign.key_id)).revoked_at).toBeNull();
    });

    it("cannot create a key in another workspace (NotFoundError), only in its own", async () => {
      const { scoped, own, other } = await scopedAdministrator();
      expect(await failure(scoped.keys.create({ name: "elsewhere", workspace_id: other }))).toBeInstanceOf(
        NotFoundError,
      );
      const made = await scoped.keys.create({ name: "here" });
      expect(made.workspace_id).toBe(own);
    });

    it("lists the keys of its own workspace only", async () => {
      const { scoped, own, scopedId } = await scopedAdministrator();
      const listed: { key_id: string; workspace_id: string | null }[] = [];
      for await (const key of scoped.keys.list({ limit: 100 })) listed.push(key);
      expect(listed.map((k) => k.key_id)).toContain(scopedId);
      expect(new Set(listed.map((k) => k.workspace_id))).toEqual(new Set([own]));
    });
  });

  describe("client.keys.create()", () => {
    it("issues secrets whose checksum is the first 6 hex digits of the SHA-256 of the rest (as the spec says)", async () => {
      const { api_key } = await admin().keys.create({ name: `checksum ${unique()}` });
      const match = /^(knify_live_[0-9A-Za-z]{32})_([0-9a-f]{6})$/.exec(api_key);
      expect(match).not.toBeNull();
      const [, body = "", checksum] = match ?? [];
      expect(checksum).toBe(bytesToHex(sha256(utf8ToBytes(body))).slice(0, 6));
    });

    it('names an unknown property at its own path: {"nam":"x"} errors at /nam', async () => {
      const error = await failure(admin().request("POST", "/keys", { body: { nam: "x" } }));
      expect(error).toBeInstanceOf(BadRequestError);
      const paths = ((error as BadRequestError).problem?.errors ?? []).map((e) => e.path);
      expect(paths).toContain("/nam");
      expect(paths).not.toContain("");
    });

    it("refuses a workspace id under ws_preset_ (BadRequestError at /workspace_id)", async () => {
      const error = await failure(admin().keys.create({ name: "squat", workspace_id: "ws_preset_e2e_tests" }));
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).problem?.errors?.map((e) => e.path)).toEqual(["/workspace_id"]);
    });
  });

  describe("simulated jobs", () => {
    it("fails a job whose prompt contains [simulate:fail]", async () => {
      const { api_key } = await client(target().testAdminKey).keys.create({ name: "sim", type: "test" });
      const { job_id } = await client(api_key).jobs.create({ job_type: "cursor_task", prompt: "x [simulate:fail] y" });
      const job = await client(api_key)
        .jobs.waitFor(job_id, wait)
        .catch((error: { job?: unknown }) => error.job);
      expect(job).toMatchObject({ id: job_id, status: "failed" });
    });
  });

  describe("Idempotency-Key on continue", () => {
    it("runs again after a first 409: an error is never replayed", async () => {
      const { api_key } = await client(target().testAdminKey).keys.create({ name: "idem", type: "test" });
      const jobs = client(api_key).jobs;
      const { job_id } = await jobs.create({ job_type: "cursor_task", prompt: "Hold", metadata: { simulate: "hold" } });
      let job = await jobs.get(job_id);
      while (job.status !== "running") {
        await new Promise((resolve) => setTimeout(resolve, 10));
        job = await jobs.get(job_id);
      }
      const idempotencyKey = `continue-${unique()}`;
      const first = await failure(jobs.continue(job_id, { prompt: "next" }, { idempotencyKey }));
      expect(first).toBeInstanceOf(ConflictError);
      await jobs.cancel(job_id);
      const second = await jobs.continue(job_id, { prompt: "next" }, { idempotencyKey });
      expect(second.job_id).toBe(job_id);
    });
  });
}
