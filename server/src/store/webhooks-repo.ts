/** Placeholder: the webhooks feature defines its repository here. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the webhooks feature
export interface WebhookRepo {}
