/**
 * `@knify/sdk/testing`: an in-memory Knify API for msw — the reference server's own rules on a memory store —
 * so code that uses Knify can be tested without a network. Needs the optional peer dependencies `msw`, `ajv`
 * and `ajv-formats`.
 */
export { createKnifyMock, type KnifyMock, type KnifyMockOptions } from "./testing/mock.js";
export type { CreatedKey, Job, MockDelivery, MockState, SeedKey, WebhookDelivery, Workspace } from "./testing/state.js";
export {
  type KnifySpec,
  MockSpecViolation,
  type OpenApiDocument,
  type ResponseValidator,
  responseValidator,
} from "./testing/validate.js";
