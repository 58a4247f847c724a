/**
 * `@knify/sdk/testing`: a spec-driven, in-memory Knify API for msw, so code that uses Knify can be
 * tested without a network. Needs the optional peer dependencies `msw`, `ajv` and `ajv-formats`.
 */
export type { MockRequest, MockResult, OperationHandler } from "./testing/context.js";
export { createKnifyMock, type KnifyMock, type KnifyMockOptions } from "./testing/mock.js";
export { ERROR_STATUS, type ErrorCode, type Problem, ProblemError } from "./testing/problem.js";
export type {
  DeliveryRecord,
  EndpointRecord,
  JobEvent,
  JobRecord,
  KeyRecord,
  WebhookEventEnvelope,
  WorkspaceRecord,
} from "./testing/records.js";
export { MockSpecViolation } from "./testing/router.js";
export type { KnifySpec, OpenApiDocument } from "./testing/spec.js";
export { MockState, type MockStateOptions, type SeedKey } from "./testing/state.js";
export { type FieldError, type ResponseValidator, responseValidator } from "./testing/validate.js";
