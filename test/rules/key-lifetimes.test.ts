import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../server/src/clock.js";
import { call } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Issue 17: edge values of a key's lifetime that no test pinned — grace 0, a second rotation, the exact
// instant a key or a rotated-out secret stops working.

const clock = new ManualClock(Date.parse("2026-03-02T09:00:00Z"));
let server: TestServer;
const verify = (apiKey: string) => call(server.url, "GET", "/keys/verify", { key: apiKey });
const rotate = (id: string, body?: object) =>
  call(server.url, "POST", `/keys/${id}/rotate`, { key: server.adminKey, ...(body ? { body } : {}) });
const isoAt = (ms: number) => new Date(ms).toISOString().replace(".000", "");

beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(() => server.stop());

describe("POST /keys/{key_id}/rotate with grace_period_seconds: 0", () => {
  it("ends the old secret at once (0 is a grace period, not a missing one)", async () => {
    const { id, apiKey: old } = await server.key();
    const rotated = await rotate(id, { grace_period_seconds: 0 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.previous_secret_expires_at).toBe(isoAt(clock.now()));
    const refused = await verify(old);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("unauthorized");
    expect((await verify(rotated.body.api_key)).status).toBe(200);
  });
});

describe("a second rotation", () => {
  it("never extends the grace of an older secret that is still in its grace period", async () => {
    const { id, apiKey: first } = await server.key();
    const second = await rotate(id, { grace_period_seconds: 60 });
    expect(second.status).toBe(200);
    clock.advance(10_000);
    const third = await rotate(id, { grace_period_seconds: 3600 });
    expect(third.body.previous_secret_expires_at).toBe(isoAt(clock.now() + 3_600_000));
    // The first secret keeps its own end (50 s from now), not the new hour.
    clock.advance(49_999);
    expect((await verify(first)).status).toBe(200);
    clock.advance(1);
    expect((await verify(first)).status).toBe(401);
    expect((await verify(second.body.api_key)).status).toBe(200);
    expect((await verify(third.body.api_key)).status).toBe(200);
  });

  it("never revives a secret whose grace period already ended", async () => {
    const { id, apiKey: first } = await server.key();
    const second = await rotate(id, { grace_period_seconds: 5 });
    clock.advance(5_000);
    expect((await verify(first)).status).toBe(401);
    const third = await rotate(id, { grace_period_seconds: 600 });
    expect(third.status).toBe(200);
    expect((await verify(first)).status).toBe(401);
    expect((await verify(second.body.api_key)).status).toBe(200);
    clock.advance(600_000);
    expect((await verify(second.body.api_key)).status).toBe(401);
    expect((await verify(third.body.api_key)).status).toBe(200);
  });
});

describe("the instant a key expires", () => {
  it("works 1 ms before expires_at and answers 401 from expires_at on", async () => {
    const expiresAt = clock.now() + 60_000;
    const { apiKey } = await server.key({ expiresAt });
    clock.set(expiresAt - 1);
    const before = await verify(apiKey);
    expect(before.status).toBe(200);
    expect(before.body.expires_at).toBe(isoAt(expiresAt));
    clock.set(expiresAt);
    const at = await verify(apiKey);
    expect(at.status).toBe(401);
    expect(at.body.code).toBe("unauthorized");
    expect(at.headers.get("www-authenticate")).toBe('Bearer realm="knify", error="invalid_token"');
  });

  it("ends a rotated-out secret exactly at previous_secret_expires_at", async () => {
    const { id, apiKey: old } = await server.key();
    const rotated = await rotate(id, { grace_period_seconds: 30 });
    const end = Date.parse(rotated.body.previous_secret_expires_at);
    clock.set(end - 1);
    expect((await verify(old)).status).toBe(200);
    clock.set(end);
    expect((await verify(old)).status).toBe(401);
  });

  it("refuses to rotate a key from its expires_at on, and rotates it 1 ms before", async () => {
    const early = await server.key({ expiresAt: clock.now() + 1000 });
    const late = await server.key({ expiresAt: clock.now() + 1000 });
    clock.advance(999);
    expect((await rotate(early.id, { grace_period_seconds: 0 })).status).toBe(200);
    clock.advance(1);
    const refused = await rotate(late.id);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("key_expired");
  });

  it("refuses an expires_at equal to now on create and update (a key dead on arrival), and takes now + 1 s", async () => {
    const nowIso = isoAt(clock.now());
    const created = await call(server.url, "POST", "/keys", {
      key: server.adminKey,
      body: { name: "dead on arrival", expires_at: nowIso },
    });
    expect(created.status).toBe(400);
    expect(created.body.errors).toEqual([expect.objectContaining({ path: "/expires_at" })]);
    const { id } = await server.key();
    const updated = await call(server.url, "PATCH", `/keys/${id}`, {
      key: server.adminKey,
      body: { expires_at: nowIso },
    });
    expect(updated.status).toBe(400);
    expect(updated.body.errors).toEqual([expect.objectContaining({ path: "/expires_at" })]);
    const soon = await call(server.url, "POST", "/keys", {
      key: server.adminKey,
      body: { name: "one second", expires_at: isoAt(clock.now() + 1000) },
    });
    expect(soon.status).toBe(200);
    expect(soon.body.expires_at).toBe(isoAt(clock.now() + 1000));
  });

  it("keeps expires_at through a PATCH that does not name it, and clears it with null", async () => {
    const expiresAt = clock.now() + 3_600_000;
    const { id } = await server.key({ expiresAt });
    const renamed = await call(server.url, "PATCH", `/keys/${id}`, { key: server.adminKey, body: { name: "renamed" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: "renamed", expires_at: isoAt(expiresAt) });
    const cleared = await call(server.url, "PATCH", `/keys/${id}`, {
      key: server.adminKey,
      body: { expires_at: null },
    });
    expect(cleared.body.expires_at).toBeNull();
  });
});
