// The public surface of `@knify/sdk`: re-exports only.

export { KnifyClient } from "./client.js";
export type { APIResponse } from "./core/api-promise.js";
export { APIPromise } from "./core/api-promise.js";
export type { RawRequestOptions } from "./core/core-client.js";
export type { FieldError, Problem } from "./core/errors.js";
export {
  APIConnectionError,
  APIError,
  APITimeoutError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  GoneError,
  InternalServerError,
  JobFailedError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from "./core/errors.js";
export { KnifyError } from "./core/knify-error.js";
export type {
  ClientOptions,
  Clock,
  Dispatcher,
  FetchLike,
  Logger,
  LogLevel,
  RequestOptions,
  Sleep,
} from "./core/options.js";
export type { Page } from "./core/pagination.js";
export { PagePromise } from "./core/pagination.js";
export type { RateLimitInfo } from "./core/rate-limit.js";
export type { ServerSentEvent } from "./core/sse.js";
export type { WorkspaceData, WorkspaceSource } from "./core/workspace-archive.js";
export type { components, operations, paths } from "./generated/schema.js";
export type {
  AgentMessageData,
  AgentName,
  AgentOutputData,
  AgentResultData,
  AgentToolCallData,
  AgentUsage,
} from "./resources/agent-events.js";
export type { StreamEventsOptions } from "./resources/job-event-stream.js";
export type {
  ContinueSpec,
  Job,
  JobArchiveMethod,
  JobChange,
  JobError,
  JobEvent,
  JobEventsMethod,
  JobHandle,
  JobSpec,
  JobStatus,
  ListJobEventsParams,
  ListJobsParams,
  WaitForOptions,
} from "./resources/jobs.js";
export { Jobs } from "./resources/jobs.js";
export type { KeyUsageParams, ListKeysParams } from "./resources/keys.js";
export { Keys } from "./resources/keys.js";
export type { ListWebhookDeliveriesParams, ListWebhookEndpointsParams } from "./resources/webhook-endpoints.js";
export { WebhookEndpoints } from "./resources/webhook-endpoints.js";
export type { ListWorkspacesParams, UploadWorkspaceParams, Workspace } from "./resources/workspaces.js";
export { Workspaces } from "./resources/workspaces.js";
export type { WebhookEvent } from "./webhooks.js";
export { WebhookVerificationError } from "./webhooks.js";
