import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe } from "vitest";
import { openSqliteStore } from "../../server/src/store/sqlite/index.js";
import type { Store } from "../../server/src/store/store.js";
import { storeContract } from "./contract.js";

const opened: Store[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

describe("store contract: SQLite", () => {
  storeContract({
    name: "sqlite",
    async open() {
      const store = await openSqliteStore(":memory:");
      opened.push(store);
      return store;
    },
  });
});

// The server's mode (issue 11): it holds the file's serve lock and keeps rate limits in memory, written with
// the usage flush. The same contract must hold, on a real file.
const dir = mkdtempSync(join(tmpdir(), "knify-sqlite-serving-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

describe("store contract: SQLite, serving alone", () => {
  storeContract({
    name: "sqlite-serving",
    async open() {
      files++;
      const store = await openSqliteStore(join(dir, `store-${files}.db`), { serve: true });
      opened.push(store);
      return store;
    },
  });
});
