import type { components } from "../generated/schema.js";

type Schemas = components["schemas"];

/** API object shapes, straight from the spec's generated types. */
export type ApiKey = Schemas["ApiKey"];
export type CreatedKey = Schemas["CreatedKey"];
export type RotatedKey = Schemas["RotatedKey"];
export type KeyType = Schemas["KeyType"];
export type Permission = Schemas["Permission"];
export type Job = Schemas["Job"];
export type JobError = Schemas["JobError"];
export type JobSpec = Schemas["JobSpec"];
export type JobStatus = Schemas["JobStatus"];
export type Workspace = Schemas["Workspace"];
export type WebhookEndpoint = Schemas["WebhookEndpoint"];
export type CreatedWebhookEndpoint = Schemas["CreatedWebhookEndpoint"];
export type WebhookDelivery = Schemas["WebhookDelivery"];
export type WebhookEventType = Schemas["WebhookEventType"];

/** A job event. `data` is typed loosely: the spec leaves it a free-form object per event type. */
export interface JobEvent {
  seq: number;
  job_id: string;
  type: Schemas["JobEvent"]["type"];
  created_at: string;
  data: Record<string, unknown>;
}

/** A webhook event envelope (`id`, `type`, `created_at`, `data`) as a delivery would send it. */
export interface WebhookEventEnvelope {
  id: string;
  type: WebhookEventType;
  created_at: string;
  data: unknown;
}

/** A stored key: the public record, its secrets (current first) and its usage counters. */
export interface KeyRecord {
  key: ApiKey;
  /** `expiresAt` is epoch ms, or null for the current secret; rotated-out secrets expire after the grace period. */
  secrets: { secret: string; expiresAt: number | null }[];
  usage: { day: string; today: number; month: string; thisMonth: number };
  order: number;
}

/** A stored job with its events. */
export interface JobRecord {
  job: Job;
  events: JobEvent[];
  /** Set by `setJobStatus`: the mock stops advancing the job until it is continued. */
  manual: boolean;
  /** Whether the current turn fails (`metadata.mock_fail: true`). */
  failTurn: boolean;
  /** Whether the current turn runs until it is cancelled (`metadata.simulate: "hold"`). */
  holdTurn: boolean;
  /**
   * What the sandbox holds, as a `.tar.gz`: the uploaded archive of the job's workspace when its first turn
   * was provisioned (the mock runs no agent, so nothing changes it). Null before provisioning and after cleanup.
   */
  sandbox: Uint8Array | null;
  order: number;
}

/** A stored workspace. */
export interface WorkspaceRecord {
  workspace: Workspace;
  /** The uploaded `.tar.gz` (the mock does not unpack it); what a job's sandbox starts from. */
  archive: Uint8Array | null;
  order: number;
  /** The namespace its name is unique in: its own id when a workspace-scoped key made it, else "". */
  nameScope: string;
}

/** A stored webhook endpoint with its signing secret. */
export interface EndpointRecord {
  endpoint: WebhookEndpoint;
  secret: string;
  order: number;
}

/** A stored delivery with the event it carries. The mock queues deliveries but never sends them. */
export interface DeliveryRecord {
  delivery: WebhookDelivery;
  event: WebhookEventEnvelope;
  order: number;
}

/** A response remembered for an Idempotency-Key. */
export interface IdempotentResponse {
  fingerprint: string;
  at: number;
  status: number;
  body: unknown;
  contentType: string | null;
}
