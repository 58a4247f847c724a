import { http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, beforeAll } from "vitest";
import { systemClock } from "../../server/src/clock.js";
import { loadConfig } from "../../server/src/config.js";
import { createCore } from "../../server/src/http/core.js";
import { fetchHandler } from "../../server/src/http/fetch-adapter.js";
import { memorySandboxFiles } from "../../server/src/jobs/memory-sandbox-files.js";
import { createKey } from "../../server/src/keys/create-key.js";
import { createLogger } from "../../server/src/logger.js";
import type { FeatureModule } from "../../server/src/module.js";
import { createFeatures } from "../../server/src/server.js";
import { createMemoryStore } from "../../server/src/store/memory/index.js";
import { DEFAULT_ARCHIVE_LIMITS } from "../../server/src/workspaces/limits.js";
import { memoryWorkspaceFiles } from "../../server/src/workspaces/memory-workspace-files.js";
import { PresetCatalog } from "../../server/src/workspaces/presets.js";
import { driftScenarios } from "./drift-scenarios.js";
import { contractScenarios } from "./scenarios.js";
import { securityScenarios } from "./security-scenarios.js";
import { type ContractTarget, validatingClient } from "./target.js";
import { updateScenarios } from "./update-scenarios.js";

// Target (c), issue 9: the server's own core — the same handlers, no Koa, no socket — behind an msw handler
// (fetchHandler: a web Request in, a Response out), on the in-memory store. What the mock is to become; it
// passes the same suite as the mock and the server. Files stay in memory too (memoryWorkspaceFiles,
// memorySandboxFiles): no disk, nothing but the runtime-neutral part (server/src/portable.ts).
const baseURL = "https://core.knify.test";
const env = {
  // Never created: with in-memory files nothing is written under it.
  KNIFY_DATA_DIR: "/nonexistent/knify-core-msw",
  KNIFY_WEBHOOK_ALLOW_PRIVATE: "1",
  KNIFY_SIMULATOR_DELAY_MS: "20",
  KNIFY_CONTINUE_WAIT_MS: "0",
};
const config = loadConfig(env);
const store = createMemoryStore();
const logger = createLogger("silent");
const workspaces = memoryWorkspaceFiles(DEFAULT_ARCHIVE_LIMITS, config.uploadTimeoutMs);
const files = { workspaces, sandboxes: memorySandboxFiles(workspaces.archiveOf) };
const { modules, handlers } = createFeatures({
  store,
  clock: systemClock,
  logger,
  config,
  env,
  presets: new PresetCatalog(),
  files,
});
const handle = fetchHandler(createCore({ store, clock: systemClock, logger, config, handlers }));
const msw = setupServer(http.all(`${baseURL}/*`, ({ request }) => handle(request)));
const violations: string[] = [];
const keys = { admin: "", testAdmin: "" };

const seedKey: ContractTarget["seedKey"] = async (input = {}) => {
  const created = await createKey(store, config, Date.now(), { name: "seeded", ...input });
  return { id: created.key.id, apiKey: created.apiKey };
};

beforeAll(async () => {
  for (const module of modules as FeatureModule[]) await module.start?.();
  keys.admin = (await seedKey({ permissions: ["admin:all"] })).apiKey;
  keys.testAdmin = (
    await createKey(store, config, Date.now(), { name: "test admin", type: "test", permissions: ["admin:all"] })
  ).apiKey;
  msw.listen({ onUnhandledRequest: "bypass" });
});
afterAll(async () => {
  msw.close();
  for (const module of modules) await module.stop?.();
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
