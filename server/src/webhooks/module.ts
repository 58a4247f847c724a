import { ProblemError } from "../http/problem.js";
import type { FeatureModule, ModuleDeps } from "../module.js";

const notYet = async (): Promise<never> => {
  throw new ProblemError("service_unavailable", "This operation is not available on this server yet.");
};

/** Placeholder: the webhooks feature (handlers and background work). */
export function createWebhooksModule(deps: ModuleDeps): FeatureModule {
  void deps;
  return {
    handlers: {
      createWebhookEndpoint: notYet,
      listWebhookEndpoints: notYet,
      getWebhookEndpoint: notYet,
      deleteWebhookEndpoint: notYet,
      testWebhookEndpoint: notYet,
      listWebhookDeliveries: notYet,
      redeliverWebhookDelivery: notYet,
    },
  };
}
