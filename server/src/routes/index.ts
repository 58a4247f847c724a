import type { ServerConfig } from "../config.js";
import type { Handlers } from "../http/operation.js";
import { ProblemError } from "../http/problem.js";
import type { Store } from "../store/store.js";
import { healthHandlers } from "./health.js";
import { keyHandlers } from "./keys.js";

/** The services handlers use. */
export interface Services {
  store: Store;
  config: ServerConfig;
}

const notYet = async (): Promise<never> => {
  throw new ProblemError("service_unavailable", "This operation is not available on this server yet.");
};

/** One handler per operationId; createApp refuses to start if the spec has an operation without one. */
export function buildHandlers({ store, config }: Services): Handlers {
  return {
    ...healthHandlers(config),
    ...keyHandlers(store, config),
    createJob: notYet,
    listJobs: notYet,
    getJob: notYet,
    listJobEvents: notYet,
    continueJob: notYet,
    cleanupJob: notYet,
    createWorkspace: notYet,
    listWorkspaces: notYet,
    getWorkspace: notYet,
    replaceWorkspace: notYet,
    deleteWorkspace: notYet,
    createWebhookEndpoint: notYet,
    listWebhookEndpoints: notYet,
    getWebhookEndpoint: notYet,
    deleteWebhookEndpoint: notYet,
    testWebhookEndpoint: notYet,
    listWebhookDeliveries: notYet,
    redeliverWebhookDelivery: notYet,
  };
}
