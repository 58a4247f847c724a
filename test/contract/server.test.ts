import { afterAll, beforeAll } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { driftScenarios } from "./drift-scenarios.js";
import { contractScenarios } from "./scenarios.js";
import { securityScenarios } from "./security-scenarios.js";
import { type ContractTarget, validatingClient } from "./target.js";
import { updateScenarios } from "./update-scenarios.js";

// Target (b): the SDK against the reference server on a loopback port (real SQLite, real runner).
let server: TestServer;
let testAdminKey: string;
const violations: string[] = [];

beforeAll(async () => {
  // A continue of a running turn answers 409 at once, as the mock does (it does not model the wait).
  server = await startTestServer({
    env: { KNIFY_WEBHOOK_ALLOW_PRIVATE: "1", KNIFY_SIMULATOR_DELAY_MS: "20", KNIFY_CONTINUE_WAIT_MS: "0" },
  });
  testAdminKey = (await server.key({ name: "test admin", type: "test", permissions: ["admin:all"] })).apiKey;
});
afterAll(() => server.stop());

const target = (): ContractTarget => ({
  name: "server",
  baseURL: server.url,
  adminKey: server.adminKey,
  testAdminKey,
  violations,
  privateWebhooks: true,
  seedKey: (input = {}) => server.key(input),
  client: (apiKey) => validatingClient(server.url, apiKey, violations),
});

contractScenarios(target);
updateScenarios(target);
driftScenarios(target);
securityScenarios(target);
