import { http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, beforeAll } from "vitest";
import { createKey } from "../../server/src/keys/create-key.js";
import { createMemoryApi } from "../../server/src/memory-api.js";
import { driftScenarios } from "./drift-scenarios.js";
import { contractScenarios } from "./scenarios.js";
import { securityScenarios } from "./security-scenarios.js";
import { type ContractTarget, validatingClient } from "./target.js";
import { updateScenarios } from "./update-scenarios.js";

// Target (c), issue 9: the server's own core — the same handlers, no Koa, no socket — behind an msw handler,
// all in memory (createMemoryApi: memory store, in-memory files, simulated runner; the runtime-neutral part,
// server/src/portable.ts). What the mock is to become; it passes the same suite as the mock and the server.
const baseURL = "https://core.knify.test";
const api = createMemoryApi({
  env: { KNIFY_WEBHOOK_ALLOW_PRIVATE: "1", KNIFY_SIMULATOR_DELAY_MS: "20", KNIFY_CONTINUE_WAIT_MS: "0" },
});
const msw = setupServer(http.all(`${baseURL}/*`, ({ request }) => api.handle(request)));
const violations: string[] = [];
const keys = { admin: "", testAdmin: "" };

const seedKey: ContractTarget["seedKey"] = async (input = {}) => {
  const created = await createKey(api.store, api.config, Date.now(), { name: "seeded", ...input });
  return { id: created.key.id, apiKey: created.apiKey };
};

beforeAll(async () => {
  api.start();
  keys.admin = (await seedKey({ permissions: ["admin:all"] })).apiKey;
  keys.testAdmin = (
    await createKey(api.store, api.config, Date.now(), { name: "test admin", type: "test", permissions: ["admin:all"] })
  ).apiKey;
  msw.listen({ onUnhandledRequest: "bypass" });
});
afterAll(async () => {
  msw.close();
  await api.stop();
});

const target = (): ContractTarget => ({
  name: "server",
  baseURL,
  adminKey: keys.admin,
  testAdminKey: keys.testAdmin,
  violations,
  privateWebhooks: true,
  seedKey,
  client: (apiKey) => validatingClient(baseURL, apiKey, violations),
});

contractScenarios(target);
updateScenarios(target);
driftScenarios(target);
securityScenarios(target);
