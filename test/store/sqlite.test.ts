import { afterEach, describe } from "vitest";
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
