import { describe } from "vitest";
import { createMemoryStore } from "../../server/src/store/memory/index.js";
import { storeContract } from "./contract.js";

describe("store contract: memory", () => {
  storeContract({ name: "memory", open: async () => createMemoryStore() });
});
