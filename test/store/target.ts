import { newId } from "../../server/src/ids.js";
import type { JobWebhookFactory, NewJob } from "../../server/src/store/jobs-repo.js";
import type { NewKey } from "../../server/src/store/keys-repo.js";
import type { Store } from "../../server/src/store/store.js";
import type { WebhookEventInput } from "../../server/src/store/webhook-event.js";
import type { NewWebhookEndpoint } from "../../server/src/store/webhooks-repo.js";
import type { WorkspaceRecord } from "../../server/src/store/workspaces-repo.js";

/** One store implementation under the contract: `open` gives an empty store for each test. */
export interface StoreTarget {
  name: string;
  open(): Promise<Store>;
}

/** The contract's clock: every case passes times explicitly, from here on. */
export const T0 = Date.parse("2025-11-17T10:00:00Z");

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

export function aKey(overrides: Partial<NewKey> = {}): NewKey {
  return {
    id: newId("key"),
    name: "ci",
    type: "live",
    prefix: "knify_live_abc",
    workspaceId: null,
    permissions: ["jobs:read", "jobs:create"],
    rateLimit: 100,
    createdAt: T0,
    expiresAt: null,
    secretHash: `hash-${unique()}`,
    ...overrides,
  };
}

export function aWorkspace(overrides: Partial<WorkspaceRecord> = {}): WorkspaceRecord {
  return {
    id: newId("ws"),
    name: `ws-${unique()}`,
    createdAt: T0,
    updatedAt: T0,
    fileCount: 0,
    sizeBytes: 0,
    ...overrides,
  };
}

export function anEvent(workspaceId: string, overrides: Partial<WebhookEventInput> = {}): WebhookEventInput {
  return { id: newId("evt"), type: "workspace.updated", workspaceId, createdAt: T0, data: { ok: true }, ...overrides };
}

export function aJob(overrides: Partial<NewJob> = {}): NewJob {
  return {
    id: newId("job"),
    workspaceId: null,
    spec: { job_type: "cursor_task", prompt: "hello" } as NewJob["spec"],
    runner: "simulated",
    testMode: false,
    now: T0,
    sandboxQuotaBytes: null,
    ...overrides,
  };
}

export function anEndpoint(workspaceId: string, overrides: Partial<NewWebhookEndpoint> = {}): NewWebhookEndpoint {
  return {
    id: newId("we"),
    workspaceId,
    url: `https://hooks.example.com/${unique()}`,
    eventTypes: [],
    description: null,
    createdAt: T0,
    sealedSecret: "sealed:v1:opaque",
    ...overrides,
  };
}

/** The webhook events jobs write: one per change, for jobs of a workspace. */
export const jobEvents: JobWebhookFactory = (type, job) =>
  job.workspaceId === null
    ? null
    : { id: newId("evt"), type, workspaceId: job.workspaceId, createdAt: T0, data: { id: job.id, status: job.status } };

/** Creates a workspace with one endpoint that wants every event; returns both ids. */
export async function workspaceWithEndpoint(store: Store): Promise<{ workspaceId: string; endpointId: string }> {
  const workspace = aWorkspace();
  await store.workspaces.create(workspace, anEvent(workspace.id));
  const endpoint = anEndpoint(workspace.id);
  await store.webhooks.createEndpoint(endpoint, 10);
  return { workspaceId: workspace.id, endpointId: endpoint.id };
}
