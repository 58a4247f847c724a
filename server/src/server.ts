import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Clock, systemClock } from "./clock.js";
import type { ServerConfig } from "./config.js";
import { healthHandlers } from "./http/health.js";
import type { Handlers } from "./http/operation.js";
import { createJobsModule } from "./jobs/module.js";
import { keyHandlers } from "./keys/handlers.js";
import { createApp } from "./koa/app.js";
import type { Logger } from "./logger.js";
import type { FeatureModule, ModuleDeps } from "./module.js";
import { READY_PATH, readinessProbe } from "./readiness.js";
import { PUBLIC_DIR } from "./site/public-dir.js";
import { createSite, isSitePath } from "./site/site.js";
import { openStore } from "./store/open.js";
import type { Store } from "./store/store.js";
import { createWebhooksModule } from "./webhooks/module.js";
import { createWorkspacesModule } from "./workspaces/module.js";
import { loadPresetWorkspaces } from "./workspaces/presets.js";

/** A running server and the means to stop it. */
export interface RunningServer {
  url: string;
  store: Store;
  http: Server;
  /** Stops accepting connections, lets in-flight requests finish (up to `graceMs`), then closes the store. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Opens the store, builds the app and listens. Used by `knify-server start` and by tests (port 0, `:memory:`).
 * @example const server = await startServer(loadConfig(), logger); console.log(server.url);
 */
export async function startServer(
  config: ServerConfig,
  logger: Logger,
  options: { clock?: Clock; store?: Store; env?: NodeJS.ProcessEnv; publicDir?: string } = {},
): Promise<RunningServer> {
  const env = options.env ?? process.env;
  // Read before the store opens, so a bad KNIFY_PRESET_WORKSPACES_DIR stops the start with nothing to close.
  const presets = loadPresetWorkspaces(env, logger);
  const store = options.store ?? (await openStore(config, { serve: true }));
  try {
    return await serveFrom(store, config, logger, env, presets, options);
  } catch (error) {
    // Refused before it served (bad settings, port taken): a store opened here is closed again, so its
    // SQLite serve lock is free for the next attempt in this process.
    if (!options.store) await store.close().catch(() => {});
    throw error;
  }
}

async function serveFrom(
  store: Store,
  config: ServerConfig,
  logger: Logger,
  env: NodeJS.ProcessEnv,
  presets: ReturnType<typeof loadPresetWorkspaces>,
  options: { clock?: Clock; publicDir?: string },
): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  // Any unfinished idempotency claim under this replica id was left by a process that died (issue 15, item 5).
  await store.idempotency.releaseOwnedBy(config.replicaId);
  const { modules, handlers } = createFeatures({ store, clock, logger, config, env, presets });
  const app = createApp({ store, clock, logger, config, handlers });
  const api = app.callback();
  let stopping = false;
  const ready = readinessProbe(store, () => stopping, logger);
  // The dashboard, the API reference and the spec (issue 12): browser pages beside the API, not operations of it.
  const site = createSite(options.publicDir ?? PUBLIC_DIR);
  const http = createServer(
    {
      // Slow-loris guards: a client must send its headers, and its whole request, in bounded time. JSON
      // bodies have their own, shorter deadline (readBody); this one is the uploads'. Node checks them on
      // this interval (30 s by default), so it must be well under the headers timeout to enforce it.
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.uploadTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    },
    (req, res) => {
      if (req.url === READY_PATH && (req.method === "GET" || req.method === "HEAD")) void ready(req, res);
      else if (isSitePath((req.url ?? "/").split("?")[0] ?? "/")) site(req, res);
      else void api(req, res);
    },
  );
  // Beyond this, Node closes new sockets as they arrive (#15: ~20k idle connections used up the descriptors).
  http.maxConnections = config.maxConnections;
  let lastDropWarning = 0;
  http.on("drop", () => {
    // Once a minute at most: a flood of connections must not become a flood of log lines.
    if (clock.now() - lastDropWarning < 60_000) return;
    lastDropWarning = clock.now();
    logger.warn({ max_connections: config.maxConnections }, "connection refused: KNIFY_MAX_CONNECTIONS reached");
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.port, config.host, () => resolve());
  });
  try {
    for (const module of modules) await module.start?.();
  } catch (error) {
    // A module refused to start (e.g. no working jail for agents): stop what already runs, then report.
    for (const module of modules) await module.stop?.();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await store.close();
    throw error;
  }
  const { port } = http.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return {
    url: `http://${host}:${port}`,
    store,
    http,
    async close(graceMs = 10_000) {
      // Not ready from now on, so load balancers send nothing new while in-flight requests finish.
      stopping = true;
      for (const module of modules) module.drain?.();
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      // A connection whose last response just finished is idle, and would otherwise be held open until its
      // keep-alive timeout (5 s): close those as they appear, not only the ones idle now.
      http.closeIdleConnections();
      const idle = setInterval(() => http.closeIdleConnections(), 100);
      const timer = setTimeout(() => http.closeAllConnections(), graceMs);
      await closed;
      clearInterval(idle);
      clearTimeout(timer);
      for (const module of modules) await module.stop?.();
      await store.close();
    },
  };
}

/**
 * Every feature module and the handlers of every operation, on the given store: what an adapter serves.
 * @example const { handlers, modules } = createFeatures({ store, clock, logger, config, env, presets });
 */
export function createFeatures(deps: ModuleDeps): { modules: FeatureModule[]; handlers: Handlers } {
  const modules: FeatureModule[] = [createWorkspacesModule(deps), createJobsModule(deps), createWebhooksModule(deps)];
  const handlers: Handlers = Object.assign(
    { ...healthHandlers(deps.config), ...keyHandlers(deps.store, deps.config) },
    ...modules.map((m) => m.handlers),
  );
  return { modules, handlers };
}
