import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { deepFreeze, memoFrozen } from "../../server/src/frozen.js";
import { presentJob } from "../../server/src/jobs/present.js";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 11: a frozen job record (the serving store caches them frozen) is presented and serialised once.
// These pin that remembering never changes an answer, and that a changed job is never answered from memory.

describe("memoFrozen", () => {
  it("calls through for an object that is not frozen, every time", () => {
    const fn = vi.fn((value: { n: number }) => ({ twice: value.n * 2 }));
    const memo = memoFrozen(fn);
    const arg = { n: 2 };
    expect(memo(arg)).toEqual({ twice: 4 });
    arg.n = 3;
    expect(memo(arg)).toEqual({ twice: 6 });
    expect(fn).toHaveBeenCalledTimes(2);
    expect(Object.isFrozen(memo(arg))).toBe(false);
  });

  it("remembers a frozen argument's result, frozen all the way down, and only for that argument", () => {
    const fn = vi.fn((value: { n: number }) => ({ twice: value.n * 2, inner: { n: value.n } }));
    const memo = memoFrozen(fn);
    const first = deepFreeze({ n: 2 });
    const second = deepFreeze({ n: 2 });
    const result = memo(first);
    expect(memo(first)).toBe(result);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(Object.isFrozen(result) && Object.isFrozen(result.inner)).toBe(true);
    expect(memo(second)).not.toBe(result);
    expect(memo(second)).toEqual(result);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("remembers a string result too (the JSON of a frozen body)", () => {
    const stringify = vi.fn((body: object) => JSON.stringify(body));
    const json = memoFrozen(stringify);
    const body = deepFreeze({ id: "job_1", spec: { prompt: "ü" } });
    expect(json(body)).toBe('{"id":"job_1","spec":{"prompt":"ü"}}');
    expect(json(body)).toBe(json(body));
    expect(stringify).toHaveBeenCalledTimes(1);
  });
});

describe("a cached job", { timeout: 60_000 }, () => {
  let server: TestServer;
  let key = "";
  beforeAll(async () => {
    server = await startTestServer({ env: { KNIFY_SIMULATOR_DELAY_MS: "0" } });
    key = (await server.key({ name: "frozen", type: "test", workspaceId: "ws_frozen" })).apiKey;
  }, 60_000);
  afterAll(() => server.stop());

  const get = async (id: string) => {
    const res = await call(server.url, "GET", `/jobs/${id}`, { key });
    expect(res.status).toBe(200);
    return res;
  };
  const settled = (id: string, turns: number) =>
    vi.waitFor(async () => expect((await get(id)).body).toMatchObject({ turns, status: "completed" }), {
      timeout: 30_000,
      interval: 20,
    });

  /** A job made through the API, once its first turn (the simulator's) has finished. */
  const finishedJob = async (prompt: string) => {
    const made = await call(server.url, "POST", "/jobs", { key, body: { spec: { job_type: "cursor_task", prompt } } });
    expect(made.status).toBe(200);
    const id = made.body.job_id as string;
    await settled(id, 1);
    return id;
  };

  it("is presented as an uncached copy of its record would be", async () => {
    const id = await finishedJob("present me");
    const record = await server.store.jobs.get(id);
    if (!record) throw new Error("the job is gone");
    // The serving store's cache hands out frozen records; a clone is what a store without the cache gives.
    expect(Object.isFrozen(record)).toBe(true);
    const copy = structuredClone(record);
    expect(Object.isFrozen(copy)).toBe(false);
    expect(presentJob(record)).toEqual(presentJob(copy));
    expect(presentJob(record)).toBe(presentJob(record));
    expect(presentJob(copy)).not.toBe(presentJob(copy));
    expect((await get(id)).body).toEqual(presentJob(copy));
  });

  it("answers its change on the next read: a continued turn, its new status and completion time", async () => {
    const id = await finishedJob("turn one");
    // Read twice: the second answer comes from the cache and the remembered JSON, byte for byte the same.
    const bytes = async () =>
      (await fetch(`${server.url}/jobs/${id}`, { headers: { Authorization: `Bearer ${key}` } })).text();
    const first = await bytes();
    expect(await bytes()).toBe(first);
    expect(JSON.parse(first)).toMatchObject({ id, turns: 1, status: "completed" });
    const continued = await call(server.url, "POST", `/jobs/${id}/continue`, {
      key,
      body: { spec: { prompt: "turn two" } },
    });
    expect(continued.status).toBe(200);
    expect(continued.body).toMatchObject({ job_id: id });
    expect((await get(id)).body).toMatchObject({ turns: 2 });
    await settled(id, 2);
    const after = (await get(id)).body;
    expect(after.spec.prompt).toBe("turn two");
    expect(after.completed_at).not.toBeNull();
  });
});
