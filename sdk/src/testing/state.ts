import { newApiKeySecret, newId, newWebhookSecret } from "./ids.js";
import {
  advanceJob,
  cancelJobTurn,
  cleanUpJob,
  forceJobStatus,
  type LifecycleContext,
  startTurn,
  wantsFailure,
  wantsHold,
} from "./job-lifecycle.js";
import { notFound, ProblemError } from "./problem.js";
import type {
  CreatedKey,
  CreatedWebhookEndpoint,
  DeliveryRecord,
  EndpointRecord,
  IdempotentResponse,
  Job,
  JobError,
  JobRecord,
  JobSpec,
  JobStatus,
  KeyRecord,
  KeyType,
  Permission,
  RotatedKey,
  WebhookEventType,
  Workspace,
  WorkspaceRecord,
} from "./records.js";

/** What `MockState.createKey` accepts; everything is optional. */
export interface SeedKey {
  name?: string;
  type?: KeyType;
  workspace_id?: string | null;
  /** Defaults to every permission except `admin:all`, as the spec says. */
  permissions?: Permission[];
  rate_limit?: number;
  expires_at?: string | null;
  /** Use this secret instead of a random one (must look like `knify_live_…` or `knify_test_…`). */
  api_key?: string;
}

/** Options of the state, filled in by `createKnifyMock`. */
export interface MockStateOptions {
  now: () => Date;
  jobDurationMs: number;
  /** Every permission the spec defines (its `Permission` enum). */
  permissions: readonly Permission[];
  /** Accept loopback and private webhook URLs (the server's `KNIFY_WEBHOOK_ALLOW_PRIVATE=1`). */
  allowPrivateWebhookUrls: boolean;
  /** Most unrevoked keys per workspace through `POST /keys` (the server's `KNIFY_MAX_KEYS_PER_WORKSPACE`). */
  maxKeysPerWorkspace: number;
}

const KEY_FORMAT = /^knify_(live|test)_[A-Za-z0-9_]+$/;
const DEFAULT_RATE_LIMIT: Record<KeyType, number> = { live: 1000, test: 100 };

/**
 * The mock's in-memory data: plain maps keyed by id, plus helpers to seed and inspect them from tests.
 * Handlers go through the same helpers, so seeded objects behave exactly like ones created over HTTP.
 *
 * @example
 * const { key_id, api_key } = mock.state.createKey({ permissions: ["jobs:read"], workspace_id: "ws_team_a" });
 * mock.state.setJobStatus(job.id, "failed", "boom");
 */
export class MockState {
  readonly keys = new Map<string, KeyRecord>();
  readonly jobs = new Map<string, JobRecord>();
  readonly workspaces = new Map<string, WorkspaceRecord>();
  readonly endpoints = new Map<string, EndpointRecord>();
  readonly deliveries = new Map<string, DeliveryRecord>();
  /** Remembered POST responses, keyed by `<key_id> <Idempotency-Key>`. */
  readonly idempotency = new Map<string, IdempotentResponse>();
  readonly options: MockStateOptions;
  private order = 0;
  private readonly lifecycle: LifecycleContext;

  constructor(options: MockStateOptions) {
    this.options = options;
    this.lifecycle = {
      now: () => this.options.now(),
      jobDurationMs: options.jobDurationMs,
      emit: (workspaceId, type, data) => this.emit(workspaceId, type, data),
      sandboxSource: (rec) =>
        rec.job.workspace_id === null ? null : (this.workspaces.get(rec.job.workspace_id)?.archive ?? null),
    };
  }

  /** The mock clock. */
  now(): Date {
    return this.options.now();
  }

  /** Insertion counter: lists are newest first by it, since mock time may stand still. */
  nextOrder(): number {
    this.order += 1;
    return this.order;
  }

  // --- keys --------------------------------------------------------------------------------

  /** Creates a key and returns it with its secret, like `POST /keys`. */
  createKey(seed: SeedKey = {}): CreatedKey {
    const type = seed.type ?? (seed.api_key?.startsWith("knify_test_") ? "test" : "live");
    const secret = seed.api_key ?? newApiKeySecret(type);
    if (!KEY_FORMAT.test(secret)) throw new Error(`api_key must look like knify_${type}_…, got ${secret}`);
    const key = {
      key_id: newId("key"),
      name: seed.name ?? "Mock key",
      type,
      prefix: secret.slice(0, 15),
      workspace_id: seed.workspace_id ?? null,
      permissions: seed.permissions ?? this.options.permissions.filter((p) => p !== "admin:all"),
      rate_limit: seed.rate_limit ?? DEFAULT_RATE_LIMIT[type],
      created_at: this.now().toISOString(),
      last_used: null,
      revoked_at: null,
      expires_at: seed.expires_at ?? null,
    };
    const usage = { day: "", today: 0, month: "", thisMonth: 0 };
    this.keys.set(key.key_id, { key, secrets: [{ secret, expiresAt: null }], usage, order: this.nextOrder() });
    return { ...structuredClone(key), api_key: secret };
  }

  /** The live key a secret belongs to, or undefined when it is unknown, revoked, expired or rotated out. */
  authenticate(secret: string): KeyRecord | undefined {
    if (!KEY_FORMAT.test(secret)) return undefined;
    const now = this.now().getTime();
    for (const rec of this.keys.values()) {
      const match = rec.secrets.find((s) => s.secret === secret && (s.expiresAt === null || now < s.expiresAt));
      if (!match) continue;
      const expired = rec.key.expires_at !== null && now >= Date.parse(rec.key.expires_at);
      return rec.key.revoked_at === null && !expired ? rec : undefined;
    }
    return undefined;
  }

  /** Whether `secret` is a rotated-out secret of its key, still in its grace period. */
  isRotatedOut(secret: string): boolean {
    for (const rec of this.keys.values()) {
      const match = rec.secrets.find((s) => s.secret === secret);
      if (match) return match.expiresAt !== null;
    }
    return false;
  }

  /** Counts a request against the key's UTC day and month, and stamps `last_used`. */
  recordUsage(rec: KeyRecord): void {
    const iso = this.now().toISOString();
    const day = iso.slice(0, 10);
    const month = iso.slice(0, 7);
    rec.usage.today = rec.usage.day === day ? rec.usage.today + 1 : 1;
    rec.usage.thisMonth = rec.usage.month === month ? rec.usage.thisMonth + 1 : 1;
    rec.usage.day = day;
    rec.usage.month = month;
    rec.key.last_used = iso;
  }

  /** Revokes a key (idempotent: the first revocation time is kept). */
  revokeKey(keyId: string): void {
    const rec = this.keys.get(keyId);
    if (!rec) throw notFound("key", keyId);
    rec.key.revoked_at ??= this.now().toISOString();
  }

  /** Issues a new secret; the previous one keeps working for `graceSeconds`. */
  rotateKey(keyId: string, graceSeconds = 86_400): RotatedKey {
    const rec = this.keys.get(keyId);
    if (!rec) throw notFound("key", keyId);
    if (rec.key.revoked_at !== null) {
      throw new ProblemError("key_revoked", `Key ${keyId} is revoked and cannot be rotated; create a new key.`);
    }
    const now = this.now().getTime();
    if (rec.key.expires_at !== null && Date.parse(rec.key.expires_at) <= now) {
      throw new ProblemError("key_expired", `Key ${keyId} has expired and cannot be rotated; create a new key.`);
    }
    const previousExpiry = now + graceSeconds * 1000;
    for (const s of rec.secrets) if (s.expiresAt === null) s.expiresAt = previousExpiry;
    const secret = newApiKeySecret(rec.key.type);
    rec.secrets.unshift({ secret, expiresAt: null });
    rec.key.prefix = secret.slice(0, 15);
    return {
      ...structuredClone(rec.key),
      api_key: secret,
      previous_secret_expires_at: new Date(previousExpiry).toISOString(),
    };
  }

  // --- workspaces ----------------------------------------------------------------------------

  /**
   * Stores a workspace. Names are unique per namespace, as on the server: one with a given `workspace_id`
   * (a workspace-scoped key's) has its own, the others share one; a duplicate is a 409 `workspace_exists`.
   */
  createWorkspace(seed: {
    name: string;
    workspace_id?: string;
    size_bytes?: number;
    file_count?: number;
    /** The uploaded `.tar.gz`; jobs of the workspace start with it as their sandbox. */
    archive?: Uint8Array;
  }): Workspace {
    const nameScope = seed.workspace_id ?? "";
    for (const { workspace, nameScope: scope } of this.workspaces.values()) {
      if ((workspace.name === seed.name && scope === nameScope) || workspace.workspace_id === seed.workspace_id) {
        throw new ProblemError(
          "workspace_exists",
          `A workspace named ${workspace.name} (${workspace.workspace_id}) exists; replace it with PUT /workspaces/{workspace_id}.`,
        );
      }
    }
    const at = this.now().toISOString();
    const workspace: Workspace = {
      workspace_id: seed.workspace_id ?? newId("ws"),
      name: seed.name,
      path: `/workspaces/${seed.name}`,
      created_at: at,
      updated_at: at,
      file_count: seed.file_count ?? 0,
      size_bytes: seed.size_bytes ?? 0,
      preset: false,
    };
    const archive = seed.archive ?? null;
    this.workspaces.set(workspace.workspace_id, { workspace, archive, order: this.nextOrder(), nameScope });
    this.emit(workspace.workspace_id, "workspace.updated", structuredClone(workspace));
    return structuredClone(workspace);
  }

  // --- jobs ----------------------------------------------------------------------------------

  /** Creates a `pending` job, like `POST /jobs`. */
  createJob(spec: JobSpec, workspaceId: string | null = null): Job {
    const job: Job = {
      id: newId("job"),
      workspace_id: workspaceId,
      spec: structuredClone(spec),
      status: "pending",
      created_at: this.now().toISOString(),
      started_at: null,
      completed_at: null,
      sandbox_id: null,
      cursor_session_id: null,
      session_id: null,
      turns: 1,
      cleaned_up_at: null,
    };
    const rec: JobRecord = {
      job,
      events: [],
      manual: false,
      failTurn: false,
      holdTurn: false,
      sandbox: null,
      order: this.nextOrder(),
    };
    this.jobs.set(job.id, rec);
    startTurn(rec, spec.prompt ?? null, wantsFailure(spec), this.lifecycle, wantsHold(spec.metadata));
    this.emit(workspaceId, "job.created", structuredClone(job));
    return structuredClone(job);
  }

  /** Starts the next turn of a job. The caller checks that the job may be continued. */
  continueJob(jobId: string, spec: { prompt: string; model?: JobSpec["model"]; metadata?: unknown }): Job {
    const rec = this.job(jobId);
    rec.job.turns += 1;
    if (spec.model !== undefined) rec.job.spec.model = spec.model;
    startTurn(rec, spec.prompt, wantsFailure(spec), this.lifecycle, wantsHold(spec.metadata));
    this.emit(rec.job.workspace_id, "job.continued", structuredClone(rec.job));
    return structuredClone(rec.job);
  }

  /** Moves every job along the mock clock (see `advanceJob`). The router calls it on each request. */
  advanceJobs(): void {
    for (const rec of this.jobs.values()) advanceJob(rec, this.lifecycle);
  }

  /**
   * Forces a job's status, with `error` for `failed` (a message is an `agent_failed` error); the job then
   * stays put until it is continued.
   */
  setJobStatus(jobId: string, status: JobStatus, error?: string | JobError): void {
    const jobError = typeof error === "string" ? { code: "agent_failed" as const, message: error } : error;
    forceJobStatus(this.job(jobId), status, jobError, this.lifecycle);
  }

  /** Cancels a job's pending or running turn, like `POST /jobs/{job_id}/cancel`. */
  cancelJob(jobId: string): Job {
    const rec = this.job(jobId);
    cancelJobTurn(rec, this.lifecycle);
    return structuredClone(rec.job);
  }

  /** Cleans up a job's sandbox, like `POST /jobs/{job_id}/cleanup`. */
  cleanupJob(jobId: string): Job {
    const rec = this.job(jobId);
    cleanUpJob(rec, this.lifecycle);
    return structuredClone(rec.job);
  }

  private job(jobId: string): JobRecord {
    const rec = this.jobs.get(jobId);
    if (!rec) throw notFound("job", jobId);
    return rec;
  }

  // --- webhooks ------------------------------------------------------------------------------

  /** Registers a webhook endpoint and returns it with its secret, like `POST /webhook-endpoints`. */
  createEndpoint(seed: {
    workspace_id: string;
    url: string;
    event_types?: WebhookEventType[];
    description?: string | null;
  }): CreatedWebhookEndpoint {
    const endpoint = {
      id: newId("we"),
      workspace_id: seed.workspace_id,
      url: seed.url,
      event_types: seed.event_types ?? [],
      description: seed.description ?? null,
      enabled: true,
      disabled_reason: null,
      created_at: this.now().toISOString(),
    };
    const secret = newWebhookSecret();
    this.endpoints.set(endpoint.id, { endpoint, secret, order: this.nextOrder() });
    return { ...structuredClone(endpoint), secret };
  }

  /** Queues a delivery of an event to one endpoint (the mock never sends it). */
  queueDelivery(rec: EndpointRecord, type: WebhookEventType, data: unknown): DeliveryRecord {
    const at = this.now().toISOString();
    const event = { id: newId("evt"), type, created_at: at, data };
    const delivery = {
      id: newId("dlv"),
      endpoint_id: rec.endpoint.id,
      event_id: event.id,
      event_type: type,
      status: "pending" as const,
      attempt_count: 0,
      next_attempt_at: at,
      created_at: at,
      attempts: [],
    };
    const stored = { delivery, event, order: this.nextOrder() };
    this.deliveries.set(delivery.id, stored);
    return stored;
  }

  /** Queues an event for every enabled endpoint of the workspace that subscribes to its type. */
  emit(workspaceId: string | null, type: WebhookEventType, data: unknown): void {
    if (workspaceId === null) return;
    for (const rec of this.endpoints.values()) {
      const { endpoint } = rec;
      if (endpoint.workspace_id !== workspaceId || !endpoint.enabled) continue;
      if (endpoint.event_types.length > 0 && !endpoint.event_types.includes(type)) continue;
      this.queueDelivery(rec, type, data);
    }
  }
}
