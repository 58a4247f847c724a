import type { components } from "../generated/schema.js";

export type WebhookEventType = components["schemas"]["WebhookEventType"];

/**
 * An event to deliver to a workspace's webhook endpoints. Store methods that change state take these and
 * write them to the outbox in the same transaction as the change, so an event is never lost or invented.
 */
export interface WebhookEventInput {
  /** `evt_…`, sent as `webhook-id` and the envelope's `id`. */
  id: string;
  type: WebhookEventType;
  workspaceId: string;
  createdAt: number;
  /** The envelope's `data` (a Job, a Workspace, …), already in its API shape. */
  data: unknown;
}
