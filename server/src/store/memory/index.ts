import type { Store } from "../store.js";
import type { WebhookDeliveryRecord } from "../webhooks-repo.js";
import { MemoryIdempotencyRepo } from "./idempotency.js";
import { MemoryJobRepo } from "./jobs.js";
import { MemoryKeyRepo } from "./keys.js";
import { MemoryRequestRepo } from "./requests.js";
import { MemorySandboxRepo } from "./sandboxes.js";
import { MemoryTables } from "./tables.js";
import { MemoryWebhookRepo } from "./webhooks.js";
import { MemoryWorkspaceRepo } from "./workspaces.js";

/** The memory store, plus what only memory can answer at once: for `@knify/sdk/testing`'s `state` helpers. */
export interface MemoryStore extends Store {
  /** Ids of the jobs whose turn is queued or running. */
  unfinishedJobIds(): string[];
  /** Every webhook delivery, newest first, with the envelope it carries (`{id, type, created_at, data}`). */
  queuedDeliveries(): { delivery: WebhookDeliveryRecord; envelope: unknown }[];
}

/**
 * A store that keeps everything in this process's memory: for the msw mock (`@knify/sdk/testing`) and for
 * tests. It passes the same store contract suite as SQLite and PostgreSQL (`test/store/`). Runtime-neutral:
 * no `node:` imports, so it bundles for browsers; state lives as long as the object.
 * @example const store = createMemoryStore(); await store.keys.get("key_…");
 */
export function createMemoryStore(): MemoryStore {
  const tables = new MemoryTables();
  const webhooks = new MemoryWebhookRepo(tables);
  return {
    keys: new MemoryKeyRepo(tables),
    requests: new MemoryRequestRepo(tables),
    idempotency: new MemoryIdempotencyRepo(tables),
    workspaces: new MemoryWorkspaceRepo(tables),
    jobs: new MemoryJobRepo(tables),
    webhooks,
    sandboxes: new MemorySandboxRepo(tables),
    async ready() {},
    unfinishedJobIds: () =>
      [...tables.jobs.values()].filter((j) => j.status === "pending" || j.status === "running").map((j) => j.id),
    queuedDeliveries: () => webhooks.queued(),
    async close() {
      tables.enqueueListeners.clear();
    },
  };
}
