import type { components } from "../generated/schema.js";

/** Any event Knify delivers to a webhook endpoint; narrow it with `switch (event.type)`. Generated from the spec. */
export type WebhookEvent = components["schemas"]["WebhookEvent"];

/** The `type` of a {@link WebhookEvent}, e.g. `"job.completed"`. */
export type WebhookEventType = components["schemas"]["WebhookEventType"];
