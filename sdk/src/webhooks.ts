// `@knify/sdk/webhooks`: verify and sign webhooks without an API key. No HTTP client code here, and no
// `node:crypto` import, so the entry point runs wherever Web standard APIs exist (issue item 5); in Node it
// still hashes with node:crypto, looked up at run time (webhooks/hmac.ts, issue 11 part 3).
export type { WebhookVerificationErrorCode } from "./webhooks/error.js";
export { WebhookVerificationError } from "./webhooks/error.js";
export type { WebhookEvent, WebhookEventType } from "./webhooks/event.js";
export type { WebhookHeaders } from "./webhooks/headers.js";
export type { WebhookPayload } from "./webhooks/payload.js";
export { generateSecret } from "./webhooks/secret.js";
export type { SignedWebhookHeaders, SignInput } from "./webhooks/sign.js";
export { sign } from "./webhooks/sign.js";
export type { UnwrapOptions } from "./webhooks/unwrap.js";
export { unwrap } from "./webhooks/unwrap.js";
export { verify } from "./webhooks/verify.js";
