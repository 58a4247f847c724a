// Issue 17, from the full mutation run of the http group: an Idempotency-Key's claim is renewed every third of
// its lease while the request runs, by a timer; dropping the `clearInterval` that stops it passed every test (a
// finished claim's renewal changes no row). Each idempotent request would then leave a timer renewing forever:
// memory and work that grow with every request a caller sends. Here the server's API runs on the memory store
// with the shortest lease the settings allow, and the store's `renew` is counted.
import { describe, expect, it } from "vitest";
import { createKey } from "../../server/src/keys/create-key.js";
import { createMemoryApi } from "../../server/src/memory-api.js";

const LEASE_MS = 150; // KNIFY_UPLOAD_TIMEOUT_MS's minimum is 100; renewed every 50 ms
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("an Idempotency-Key's claim renewal", () => {
  it("runs while the request runs and stops with it, whether it succeeded or failed", async () => {
    const api = createMemoryApi({
      env: { KNIFY_UPLOAD_TIMEOUT_MS: String(LEASE_MS), KNIFY_HEADERS_TIMEOUT_MS: String(LEASE_MS) },
    });
    const { apiKey } = await createKey(api.store, api.config, Date.now(), {
      name: "renewal",
      permissions: ["jobs:create", "jobs:read"],
    });
    let renewals = 0;
    const renew = api.store.idempotency.renew.bind(api.store.idempotency);
    api.store.idempotency.renew = (...args) => {
      renewals++;
      return renew(...args);
    };
    // A slow handler: the job's insert takes three renewal periods. The second request's insert fails.
    const create = api.store.jobs.create.bind(api.store.jobs);
    let fail = false;
    api.store.jobs.create = async (...args) => {
      await sleep(LEASE_MS);
      if (fail) throw new Error("the store is down");
      return create(...args);
    };
    const post = (key: string) =>
      api.handle(
        new Request("https://knify.invalid/jobs", {
          method: "POST",
          headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json", "Idempotency-Key": key },
          body: JSON.stringify({ spec: { job_type: "cursor_task", prompt: "renew" } }),
        }),
      );
    try {
      for (const [key, status] of [
        ["renewal-ok", 200],
        ["renewal-failed", 500],
      ] as const) {
        fail = status !== 200;
        const before = renewals;
        const response = await post(key);
        expect(response.status).toBe(status);
        // The control: the claim was renewed while the handler ran.
        expect(renewals).toBeGreaterThan(before);
        const after = renewals;
        await sleep(LEASE_MS * 2);
        expect(renewals, `renewals after the ${key} request ended`).toBe(after);
      }
    } finally {
      await api.stop();
    }
  });
});
