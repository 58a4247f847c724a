// The runtime-neutral part of the server (issue 9): the core and every feature's handlers, the scheduler,
// the simulator and the delivery worker, with their injected interfaces. No Node built-in is reachable
// from here (test/packaging/core-neutral.test.ts bundles it to check), so `@knify/sdk/testing` can run the
// same rules as the server. Entry file: re-exports only.

export { type Core, type CoreDeps, createCore } from "./http/core.js";
export { fetchHandler } from "./http/fetch-adapter.js";
export { healthHandlers } from "./http/health.js";
export type { Handler, HandlerResult, Handlers, RequestInput } from "./http/operation.js";
export type { CoreRequest, CoreResponse, RequestBody, ResponseStream } from "./http/request.js";
export { jobHandlers } from "./jobs/handlers.js";
export { memorySandboxFiles } from "./jobs/memory-sandbox-files.js";
export { JobNotifier } from "./jobs/notifier.js";
export { jobWebhooks } from "./jobs/present.js";
export type { SandboxFiles } from "./jobs/sandbox-files.js";
export { RunRegistry, Scheduler } from "./jobs/scheduler.js";
export { SimulatedRunner, type SimulatedWait } from "./jobs/simulated-runner.js";
export { createKey, rotateKey } from "./keys/create-key.js";
export { keyHandlers } from "./keys/handlers.js";
export { createMemoryApi, type MemoryApi, type MemoryApiOptions, silentLogger } from "./memory-api.js";
export { createMemoryStore, type MemoryStore } from "./store/memory/index.js";
export { fetchDeliverer } from "./webhooks/fetch-deliverer.js";
export { webhookHandlers } from "./webhooks/handlers.js";
export { createSecretBox, type SecretBox } from "./webhooks/seal.js";
export { signWebhook } from "./webhooks/sign.js";
export { DeliveryWorker } from "./webhooks/worker.js";
export { workspaceHandlers } from "./workspaces/handlers.js";
export { type MemoryWorkspaceFiles, memoryWorkspaceFiles } from "./workspaces/memory-workspace-files.js";
export type { FileCounts, StagedUpload, WorkspaceFiles } from "./workspaces/workspace-files.js";
