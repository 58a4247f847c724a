import type { Store } from "../store.js";
import { MemoryIdempotencyRepo } from "./idempotency.js";
import { MemoryJobRepo } from "./jobs.js";
import { MemoryKeyRepo } from "./keys.js";
import { MemoryRequestRepo } from "./requests.js";
import { MemorySandboxRepo } from "./sandboxes.js";
import { MemoryTables } from "./tables.js";
import { MemoryWebhookRepo } from "./webhooks.js";
import { MemoryWorkspaceRepo } from "./workspaces.js";

/**
 * A store that keeps everything in this process's memory: for the msw mock (`@knify/sdk/testing`) and for
 * tests. It passes the same store contract suite as SQLite and PostgreSQL (`test/store/`). Runtime-neutral:
 * no `node:` imports, so it bundles for browsers; state lives as long as the object.
 * @example const store = createMemoryStore(); await store.keys.get("key_…");
 */
export function createMemoryStore(): Store {
  const tables = new MemoryTables();
  return {
    keys: new MemoryKeyRepo(tables),
    requests: new MemoryRequestRepo(tables),
    idempotency: new MemoryIdempotencyRepo(tables),
    workspaces: new MemoryWorkspaceRepo(tables),
    jobs: new MemoryJobRepo(tables),
    webhooks: new MemoryWebhookRepo(tables),
    sandboxes: new MemorySandboxRepo(tables),
    async ready() {},
    async close() {
      tables.enqueueListeners.clear();
    },
  };
}
