import { createKnifyMock } from "@knify/sdk/testing";
import { setupServer } from "msw/node";
import { afterAll, beforeAll } from "vitest";
import { driftScenarios } from "./drift-scenarios.js";
import { contractScenarios } from "./scenarios.js";
import { securityScenarios } from "./security-scenarios.js";
import { type ContractTarget, validatingClient } from "./target.js";
import { updateScenarios } from "./update-scenarios.js";

// Target (a): the SDK over the published mock, `@knify/sdk/testing` — the server's own core (no Koa, no socket)
// on the memory store, behind msw (issue 9: the core-behind-msw target it replaced was the same thing).
const baseURL = "https://api.knify.io";
const mock = createKnifyMock({ baseURL, allowPrivateWebhookUrls: true });
const msw = setupServer(...mock.handlers);
const violations: string[] = [];
let testAdmin = "";

beforeAll(async () => {
  testAdmin = (await mock.state.createKey({ name: "test admin", type: "test", permissions: ["admin:all"] })).api_key;
  msw.listen({ onUnhandledRequest: "error" });
});
afterAll(() => msw.close());

const target = (): ContractTarget => ({
  name: "mock",
  baseURL,
  adminKey: mock.adminKey,
  testAdminKey: testAdmin,
  violations,
  privateWebhooks: true,
  seedKey: async (input = {}) => {
    const key = await mock.state.createKey({
      workspace_id: input.workspaceId ?? null,
      ...(input.permissions ? { permissions: input.permissions } : {}),
      ...(input.expiresAt === undefined ? {} : { expires_at: new Date(input.expiresAt).toISOString() }),
    });
    return { id: key.key_id, apiKey: key.api_key };
  },
  client: (apiKey) => validatingClient(baseURL, apiKey, violations),
});

contractScenarios(target);
updateScenarios(target);
driftScenarios(target);
securityScenarios(target);
