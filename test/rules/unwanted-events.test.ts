// An event that no webhook endpoint is owed is not stored (issue 17: a surviving mutant stored it anyway).
// Every job and workspace change makes an event, so storing the unwanted ones would grow the store with
// each request of a tenant that never registered a webhook. No operation lists events, so this reads the
// store's own tables: the SQLite file, the PostgreSQL database and the memory store's maps.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryTables } from "../../server/src/store/memory/tables.js";
import { MemoryWebhookRepo } from "../../server/src/store/memory/webhooks.js";
import { openPostgresStore } from "../../server/src/store/postgres/index.js";
import { openSqliteStore } from "../../server/src/store/sqlite/index.js";
import type { Store } from "../../server/src/store/store.js";
import { anEndpoint, anEvent } from "../store/target.js";
import { describePostgres } from "../support/describe-postgres.js";
import { createTestDatabase } from "../support/postgres.js";

/** Three events nobody wants (no endpoint; an endpoint for other types; a disabled one), then one wanted. */
async function enqueueUnwantedThenWanted(
  webhooks: Pick<Store["webhooks"], "enqueue" | "createEndpoint" | "updateEndpoint">,
) {
  expect(await webhooks.enqueue(anEvent("ws_quiet"))).toBe(0);
  await webhooks.createEndpoint(anEndpoint("ws_picky", { eventTypes: ["job.failed"] }), 10);
  expect(await webhooks.enqueue(anEvent("ws_picky", { type: "job.completed" }))).toBe(0);
  const off = await webhooks.createEndpoint(anEndpoint("ws_off"), 10);
  if (!("id" in off)) throw new Error("endpoint refused");
  await webhooks.updateEndpoint(off.id, { enabled: { enabled: false, reason: "manual" } });
  expect(await webhooks.enqueue(anEvent("ws_off"))).toBe(0);
  // The control: a wanted event is stored, so a count of 0 above means "not stored", not "wrong table".
  expect(await webhooks.enqueue(anEvent("ws_picky", { type: "job.failed" }))).toBe(1);
}

describe("an event no endpoint is owed is not stored", () => {
  const dir = mkdtempSync(join(tmpdir(), "knify-unwanted-events-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("SQLite: the file holds only the wanted event", async () => {
    const path = join(dir, "store.db");
    const store = await openSqliteStore(path);
    try {
      await enqueueUnwantedThenWanted(store.webhooks);
    } finally {
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare("SELECT type, workspace_id FROM webhook_events").all()).toEqual([
        { type: "job.failed", workspace_id: "ws_picky" },
      ]);
    } finally {
      db.close();
    }
  });

  it("memory: the events table holds only the wanted event", async () => {
    const tables = new MemoryTables();
    await enqueueUnwantedThenWanted(new MemoryWebhookRepo(tables));
    expect([...tables.webhookEvents.values()].map((e) => [e.type, e.workspaceId])).toEqual([
      ["job.failed", "ws_picky"],
    ]);
  });
});

describePostgres("an event no endpoint is owed is not stored: PostgreSQL", () => {
  it("the database holds only the wanted event", async () => {
    const database = await createTestDatabase();
    const client = new pg.Client({ connectionString: database.url });
    try {
      const store = await openPostgresStore(database.url, { poolSize: 2, rateLimitClock: "caller" });
      try {
        await enqueueUnwantedThenWanted(store.webhooks);
      } finally {
        await store.close();
      }
      await client.connect();
      const { rows } = await client.query("SELECT type, workspace_id FROM webhook_events");
      expect(rows).toEqual([{ type: "job.failed", workspace_id: "ws_picky" }]);
    } finally {
      await client.end();
      await database.drop();
    }
  });
});
