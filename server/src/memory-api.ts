import { type Clock, systemClock } from "./clock.js";
import { createCore } from "./http/core.js";
import { fetchHandler } from "./http/fetch-adapter.js";
import { healthHandlers } from "./http/health.js";
import type { Handlers } from "./http/operation.js";
import { loadJobsConfig } from "./jobs/config.js";
import { jobHandlers } from "./jobs/handlers.js";
import { memorySandboxFiles } from "./jobs/memory-sandbox-files.js";
import { JobNotifier } from "./jobs/notifier.js";
import { jobWebhooks } from "./jobs/present.js";
import type { Runner } from "./jobs/runner.js";
import { RunRegistry, Scheduler } from "./jobs/scheduler.js";
import { SimulatedRunner } from "./jobs/simulated-runner.js";
import { keyHandlers } from "./keys/handlers.js";
import type { Logger } from "./logger.js";
import { readConfig, type ServerConfig } from "./settings.js";
import { createMemoryStore, type MemoryStore } from "./store/memory/index.js";
import { loadWebhookSettings } from "./webhooks/config.js";
import { webhookHandlers } from "./webhooks/handlers.js";
import { createSecretBox } from "./webhooks/seal.js";
import type { ResolveAll } from "./webhooks/ssrf.js";
import { workspaceHandlers } from "./workspaces/handlers.js";
import { readArchiveLimits } from "./workspaces/limits.js";
import { memoryWorkspaceFiles } from "./workspaces/memory-workspace-files.js";
import { PresetCatalog } from "./workspaces/preset-catalog.js";
import { readDiskQuota } from "./workspaces/quota-setting.js";

/** Options of {@link createMemoryApi}. */
export interface MemoryApiOptions {
  /** KNIFY_* settings, read with the server's own rules (e.g. `KNIFY_SIMULATOR_DELAY_MS`, `KNIFY_WEBHOOK_ALLOW_PRIVATE`). */
  env?: Record<string, string | undefined>;
  clock?: Clock;
  /** Default: a logger that writes nothing. */
  logger?: Logger;
  /** Resolves a webhook URL's host for the SSRF check. Default: every name is a public host (nothing is sent). */
  resolveAll?: ResolveAll;
  /** Runs every turn. Default: the simulator on real timers (`KNIFY_SIMULATOR_DELAY_MS`); the SDK's mock passes one on its clock. */
  runner?: Runner;
  /** The part of request URLs before the API's own paths (`/v1` for `https://api.example.com/v1`). */
  basePath?: string;
}

/** The whole API in memory: the server's core and handlers on the memory store, files and simulated runner. */
export interface MemoryApi {
  store: MemoryStore;
  config: ServerConfig;
  /** A web `Request` in, a `Response` out: hand it to msw, a Service Worker or an edge runtime. */
  handle: (request: Request) => Promise<Response>;
  /** Starts the simulated runner (queued turns run from then on). */
  start(): void;
  /** Stops the runner and aborts the turns it runs. */
  stop(): Promise<void>;
}

const noop = () => undefined;
/** A Logger that writes nothing; nothing here reads a logger's other members. */
export const silentLogger: Logger = {
  level: "silent",
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => silentLogger,
} as unknown as Logger;

/** The host the memory API reports: no machine, no disk. */
const MEMORY_HOST = { hostname: () => "memory", resolvePath: (...segments: string[]) => segments.join("/") };

/**
 * The server's API with nothing outside memory, runtime-neutral (reachable from `portable.ts`, so no Node
 * built-in): the same core, pipeline and handlers as the reference server, on the memory store, in-memory
 * files and the simulated runner for every key. Webhook deliveries are queued, never sent (no worker runs).
 * `@knify/sdk/testing` is made of it (with a runner on its mock clock).
 * @example const api = createMemoryApi({ env: { KNIFY_SIMULATOR_DELAY_MS: "0" } }); api.start(); await api.handle(request);
 */
export function createMemoryApi(options: MemoryApiOptions = {}): MemoryApi {
  const env = options.env ?? {};
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const config = readConfig(env, MEMORY_HOST);
  const jobsConfig = loadJobsConfig(env, config.replicaId);
  const webhookSettings = loadWebhookSettings(env);
  const limits = readArchiveLimits(env);
  const diskQuotaBytes = readDiskQuota(env);
  const store = createMemoryStore();
  const files = memoryWorkspaceFiles(limits, config.uploadTimeoutMs);
  const sandboxes = memorySandboxFiles(files.archiveOf);
  const presets = new PresetCatalog();
  // What the scheduler and the job handlers share.
  const jobParts = { store, clock, logger, sandboxes, notifier: new JobNotifier(), runs: new RunRegistry() };
  const webhook = jobWebhooks(clock);
  const stopping = new AbortController();
  const runner = options.runner ?? new SimulatedRunner(jobsConfig.simulatorDelayMs);
  const schedulerDeps = { ...jobParts, webhook, replicaId: config.replicaId, leaseMs: jobsConfig.leaseMs };
  const scheduler = new Scheduler(schedulerDeps, "simulated", runner, 1000);
  const handlers: Handlers = {
    ...healthHandlers(config),
    ...keyHandlers(store, config),
    ...jobHandlers({ ...jobParts, stopping: stopping.signal, config: jobsConfig, webhook, presets }),
    ...workspaceHandlers({ store, clock, limits, files, presets, diskQuotaBytes }),
    ...webhookHandlers({
      store,
      box: createSecretBox(crypto.getRandomValues(new Uint8Array(32))),
      allowPrivate: webhookSettings.allowPrivate,
      maxEndpointsPerWorkspace: webhookSettings.maxEndpointsPerWorkspace,
      resolveAll: options.resolveAll ?? (async () => ["1.1.1.1"]),
    }),
  };
  return {
    store,
    config,
    handle: fetchHandler(createCore({ store, clock, logger, config, handlers }), options.basePath),
    start: () => scheduler.start(),
    async stop() {
      stopping.abort();
      scheduler.stop();
      await jobParts.runs.abortAll();
    },
  };
}
