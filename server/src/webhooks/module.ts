import type { FeatureModule, ModuleDeps } from "../module.js";
import { loadWebhookSettings } from "./config.js";
import { createDeliverer } from "./deliverer.js";
import { systemResolveAll } from "./guarded-lookup.js";
import { webhookHandlers } from "./handlers.js";
import { createSecretBox } from "./seal.js";
import { loadSecretKey } from "./secret-box.js";
import { DeliveryWorker } from "./worker.js";

/**
 * The webhooks feature: endpoint and delivery handlers, and the worker that sends the outbox.
 * Reads its settings from `deps.env` and fails at start with the variable's name when one is invalid.
 * @example const webhooks = createWebhooksModule({ store, config, clock, logger, env: process.env });
 */
export function createWebhooksModule(deps: ModuleDeps): FeatureModule {
  const settings = loadWebhookSettings(deps.env);
  const box = createSecretBox(loadSecretKey(deps.env, deps.config.dataDir));
  const worker = new DeliveryWorker({
    repo: deps.store.webhooks,
    deliverer: createDeliverer(settings),
    box,
    clock: deps.clock,
    logger: deps.logger.child({ component: "webhooks" }),
    settings,
    userAgent: `Knify-Webhooks/${deps.config.version}`,
  });
  if (settings.allowPrivate) {
    deps.logger.warn("KNIFY_WEBHOOK_ALLOW_PRIVATE=1: webhooks may target private, loopback and link-local addresses");
  }
  return {
    handlers: webhookHandlers({
      store: deps.store,
      box,
      allowPrivate: settings.allowPrivate,
      maxEndpointsPerWorkspace: settings.maxEndpointsPerWorkspace,
      resolveAll: systemResolveAll,
    }),
    async start() {
      worker.start();
    },
    async stop() {
      await worker.stop();
    },
  };
}
