import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../server/src/store/sqlite/index.js";
import { call } from "../support/http.js";
import { readFromFile } from "../support/sqlite.js";
import { until } from "../support/until.js";

// Issue 11, item 1: usage is counted in memory and flushed in batches, keys are cached by hash. Neither may
// cost exactness: usage reads are exact at once, a SIGTERM loses nothing, a 5/min key gets exactly 5, and a
// revocation by the CLI in another process applies to the running server's next request.
const exec = promisify(execFile);
const bin = join(import.meta.dirname, "..", "..", "server", "bin", "knify-server.mjs");
const dataDir = mkdtempSync(join(tmpdir(), "knify-usage-flush-"));
// An hour: the timer never flushes during the test, so only reads, close and SIGTERM can have written.
const env = { ...process.env, KNIFY_DATA_DIR: dataDir, KNIFY_PORT: "0", KNIFY_USAGE_FLUSH_MS: "3600000" };

/** `knify-server <args>` in its own process, against the same SQLite file; its JSON output. */
async function cli(...args: string[]): Promise<{ key_id: string; api_key: string; revoked_at?: string | null }> {
  return JSON.parse((await exec(process.execPath, [bin, ...args], { env })).stdout);
}

/** A TAT the server wrote to the file (another connection's read, as the CLI's would be), or undefined. */
const tatOnDisk = (keyId: string) =>
  readFromFile(join(dataDir, "knify.db"), "SELECT tat FROM rate_limits WHERE key_id = ?", keyId) as number | undefined;

async function start(overrides: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [bin, "start"], {
    env: { ...env, ...overrides },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk;
      const match = /"url":"([^"]+)".*"msg":"listening"/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
  child.removeAllListeners("exit");
  return { child, url };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  const exited = once(child, "exit");
  child.kill(signal);
  return (await exited)[0] as number | null;
}

let admin: string;
beforeAll(async () => {
  admin = (await cli("keys", "create", "--name", "admin", "--permissions", "admin:all", "--init")).api_key;
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("usage kept in memory by a running knify-server", { timeout: 120_000 }, () => {
  it("is exact in GET /keys/{id}/usage and GET /keys right after the requests, and all of it is on disk after SIGTERM", async () => {
    const key = await cli("keys", "create", "--name", "counted", "--rate-limit", "1000");
    const { child, url } = await start();
    try {
      const replies = await Promise.all(
        Array.from({ length: 37 }, () => call(url, "GET", "/keys/verify", { key: key.api_key })),
      );
      expect(replies.every((r) => r.status === 200)).toBe(true);
      const usage = await call(url, "GET", `/keys/${key.key_id}/usage`, { key: admin });
      expect(usage.body).toMatchObject({ requests_today: 37, requests_this_month: 37 });
      expect(usage.body.last_used).not.toBeNull();
      const listed = (await call(url, "GET", "/keys?limit=100", { key: admin })).body;
      expect(listed.find((k: { key_id: string }) => k.key_id === key.key_id).last_used).toBe(usage.body.last_used);

      // Counted after the read flushed: only the SIGTERM's flush can write these.
      for (let i = 0; i < 5; i++)
        expect((await call(url, "GET", "/keys/verify", { key: key.api_key })).status).toBe(200);
    } finally {
      expect(await stop(child, "SIGTERM")).toBe(0);
    }
    const store = await openSqliteStore(join(dataDir, "knify.db"), { usageFlushMs: 0 });
    try {
      expect((await store.requests.usage(key.key_id, Date.now())).requestsToday).toBe(42);
    } finally {
      await store.close();
    }
  });

  it("writes usage every KNIFY_USAGE_FLUSH_MS without any read, so a SIGKILL after it loses nothing", async () => {
    const key = await cli("keys", "create", "--name", "timed");
    const { child, url } = await start({ KNIFY_USAGE_FLUSH_MS: "100" });
    for (let i = 0; i < 9; i++) expect((await call(url, "GET", "/keys/verify", { key: key.api_key })).status).toBe(200);
    // Read by another connection, as the CLI would: the server's own reads would flush.
    const onDisk = () =>
      (readFromFile(join(dataDir, "knify.db"), "SELECT sum(count) FROM usage_daily WHERE key_id = ?", key.key_id) ??
        0) as number;
    await until("the timer's flush", () => (onDisk() === 9 ? true : undefined));
    expect(await stop(child, "SIGKILL")).toBeNull();
    expect(onDisk()).toBe(9);
  });

  it("admits exactly 5 of 200 parallel requests of a 5/min key", async () => {
    const key = await cli("keys", "create", "--name", "five", "--rate-limit", "5");
    const { child, url } = await start();
    try {
      const replies = await Promise.all(
        Array.from({ length: 200 }, () => call(url, "GET", "/keys/verify", { key: key.api_key })),
      );
      expect(replies.filter((r) => r.status === 200)).toHaveLength(5);
      expect(replies.filter((r) => r.status === 429)).toHaveLength(195);
      expect((await call(url, "GET", `/keys/${key.key_id}/usage`, { key: admin })).body.requests_today).toBe(5);
    } finally {
      await stop(child, "SIGTERM");
    }
  });

  it("refuses a key on the next request once `knify-server keys revoke` ran in another process", async () => {
    const key = await cli("keys", "create", "--name", "doomed");
    const { child, url } = await start();
    try {
      // Twice, so the second answer comes from the server's key cache.
      expect((await call(url, "GET", "/keys/verify", { key: key.api_key })).status).toBe(200);
      expect((await call(url, "GET", "/keys/verify", { key: key.api_key })).status).toBe(200);
      expect((await cli("keys", "revoke", key.key_id)).revoked_at).toBeTruthy();
      const after = await call(url, "GET", "/keys/verify", { key: key.api_key });
      expect(after.status).toBe(401);
      expect(after.body.code).toBe("unauthorized");
    } finally {
      await stop(child, "SIGTERM");
    }
  });

  it("keeps a spent limit across a SIGTERM restart: the server's in-memory rate limits reach the file", async () => {
    const key = await cli("keys", "create", "--name", "restarted", "--rate-limit", "5");
    const first = await start();
    try {
      for (let i = 0; i < 5; i++)
        expect((await call(first.url, "GET", "/keys/verify", { key: key.api_key })).status).toBe(200);
      // The hour-long flush timer never ran and nothing read usage: the TAT is only in the server's memory.
      expect(tatOnDisk(key.key_id)).toBeUndefined();
    } finally {
      expect(await stop(first.child, "SIGTERM")).toBe(0);
    }
    expect(tatOnDisk(key.key_id)).toBeGreaterThan(Date.now());
    const second = await start();
    try {
      const refused = await call(second.url, "GET", "/keys/verify", { key: key.api_key });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await stop(second.child, "SIGTERM");
    }
  });

  it("writes the rate limits with every KNIFY_USAGE_FLUSH_MS flush, so a SIGKILL after it keeps the limit spent", async () => {
    const key = await cli("keys", "create", "--name", "killed", "--rate-limit", "3");
    const first = await start({ KNIFY_USAGE_FLUSH_MS: "100" });
    for (let i = 0; i < 3; i++)
      expect((await call(first.url, "GET", "/keys/verify", { key: key.api_key })).status).toBe(200);
    // Each request moves a 3/min key's TAT 20 s on: past now + 45 s, all three were written (not only the first).
    await until("the timer's flush of the third TAT", () =>
      (tatOnDisk(key.key_id) ?? 0) > Date.now() + 45_000 ? true : undefined,
    );
    expect(await stop(first.child, "SIGKILL")).toBeNull();
    const second = await start();
    try {
      expect((await call(second.url, "GET", "/keys/verify", { key: key.api_key })).status).toBe(429);
    } finally {
      await stop(second.child, "SIGTERM");
    }
  });

  it("refuses a second server on the same data directory, saying why, and lets one start once the first stopped", async () => {
    const first = await start();
    let second: ChildProcess | undefined;
    try {
      second = spawn(process.execPath, [bin, "start"], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      second.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk;
      });
      const [code] = (await once(second, "exit")) as [number | null];
      expect(code).not.toBe(0);
      expect(stderr).toContain("another knify server is serving");
      expect(stderr).toContain("KNIFY_DATABASE_URL");
      // The first one goes on serving.
      expect((await call(first.url, "GET", "/keys/verify", { key: admin })).status).toBe(200);
    } finally {
      if (second?.exitCode === null) second.kill("SIGKILL");
      await stop(first.child, "SIGTERM");
    }
    const third = await start();
    expect((await call(third.url, "GET", "/keys/verify", { key: admin })).status).toBe(200);
    await stop(third.child, "SIGTERM");
  });

  it("takes the serve lock on a data directory that does not exist yet (a first start)", async () => {
    const fresh = join(dataDir, "first-start", "data");
    const { child, url } = await start({ KNIFY_DATA_DIR: fresh });
    try {
      expect((await call(url, "GET", "/healthz/ready")).status).toBe(200);
    } finally {
      expect(await stop(child, "SIGTERM")).toBe(0);
    }
  });
});
