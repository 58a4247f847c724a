import type { Clock } from "../../../server/src/clock.js";
import { presentJob } from "../../../server/src/jobs/present.js";
import { createKey } from "../../../server/src/keys/create-key.js";
import { presentKey } from "../../../server/src/keys/present.js";
import type { MemoryApi } from "../../../server/src/memory-api.js";
import { presentDelivery } from "../../../server/src/webhooks/present.js";
import type { components } from "../generated/schema.js";
import type { ClockRunner } from "./clock-runner.js";

type Schemas = components["schemas"];
export type Job = Schemas["Job"];
export type Workspace = Schemas["Workspace"];
export type CreatedKey = Schemas["CreatedKey"];
export type WebhookDelivery = Schemas["WebhookDelivery"];

/** What `state.createKey` accepts; everything is optional. */
export interface SeedKey {
  name?: string;
  type?: Schemas["KeyType"];
  workspace_id?: string | null;
  /** Defaults to every permission except `admin:all`, as the spec says. */
  permissions?: Schemas["Permission"][];
  rate_limit?: number;
  /** May lie in the past (an expired key), which `POST /keys` refuses. */
  expires_at?: string | null;
  /** Use this well-formed secret instead of a random one. */
  api_key?: string;
}

/** A queued webhook delivery and the envelope it carries (`{id, type, created_at, data}`), as it would be sent. */
export interface MockDelivery {
  delivery: WebhookDelivery;
  event: { id: string; type: string; created_at: string; data: unknown };
}

/**
 * The mock's data, behind the same store and rules as its API: seeding writes through the server's own
 * functions (keys) or its API as the admin key (workspaces, jobs; counted in that key's usage), so seeded
 * objects are exactly what the API would have made. Every helper is async, like the store.
 *
 * @example
 * const { api_key } = await mock.state.createKey({ permissions: ["jobs:read"], workspace_id: "ws_team_a" });
 * await mock.state.setJobStatus(job.id, "failed", "boom");
 */
export interface MockState {
  /** Creates a key and returns it with its secret, like `POST /keys` (also expired ones, or with a given secret). */
  createKey(seed?: SeedKey): Promise<CreatedKey>;
  /** Uploads a workspace (default: an empty `.tar.gz`), like `POST /workspaces`. */
  createWorkspace(seed: { name: string; archive?: Uint8Array }): Promise<Workspace>;
  /** Creates a job, like `POST /jobs`, in the workspace `workspaceId` if given. */
  createJob(spec: Schemas["JobSpec"], workspaceId?: string | null): Promise<Job>;
  /**
   * Moves a job's current turn along: `running` keeps it running until told otherwise; `completed` or `failed`
   * (with `error`; a message is an `agent_failed` error) ends it. Throws when the job has no turn to move.
   */
  setJobStatus(
    jobId: string,
    status: "running" | "completed" | "failed",
    error?: string | Schemas["JobError"],
  ): Promise<void>;
  /** Ends every turn the mock clock has reached (each request does this first). */
  advanceJobs(): Promise<void>;
  /** A job as `GET /jobs/{job_id}` shows it to an admin, or null. */
  getJob(jobId: string): Promise<Job | null>;
  /** Every job, newest first. */
  listJobs(): Promise<Job[]>;
  /** Every webhook delivery queued (the mock never sends them), newest first. */
  deliveries(): Promise<MockDelivery[]>;
}

/** An empty tar archive (two zero blocks), gzipped: the default upload of `createWorkspace`. */
const EMPTY_TAR_GZ = [
  31, 139, 8, 0, 0, 0, 0, 0, 2, 255, 99, 96, 24, 5, 163, 96, 20, 140, 84, 0, 0, 46, 175, 181, 239, 0, 4, 0, 0,
];

/** The state of one mock; `ready` settles once its admin key is stored. */
export function createState(api: MemoryApi, runner: ClockRunner, clock: Clock, adminKey: string) {
  const { store, config } = api;
  const ready = createKey(store, config, clock.now(), {
    name: "Mock admin key",
    permissions: ["admin:all"],
    apiKey: adminKey,
  }).then(() => undefined);

  /** Calls the API as the admin key; a problem becomes an Error naming it. */
  async function asAdmin<T>(method: string, path: string, body?: FormData | object): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${adminKey}` };
    if (body !== undefined && !(body instanceof FormData)) headers["Content-Type"] = "application/json";
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = body instanceof FormData ? body : JSON.stringify(body);
    await ready;
    const response = await api.handle(new Request(`https://mock.knify.invalid${path}`, init));
    const json = (await response.json()) as T & { detail?: string };
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${json.detail ?? ""}`);
    return json;
  }

  const state: MockState = {
    async createKey(seed = {}) {
      await ready;
      const { key, apiKey } = await createKey(store, config, clock.now(), {
        name: seed.name ?? "Mock key",
        workspaceId: seed.workspace_id ?? null,
        ...(seed.type === undefined ? {} : { type: seed.type }),
        ...(seed.permissions === undefined ? {} : { permissions: seed.permissions }),
        ...(seed.rate_limit === undefined ? {} : { rateLimit: seed.rate_limit }),
        ...(seed.expires_at == null ? {} : { expiresAt: Date.parse(seed.expires_at) }),
        ...(seed.api_key === undefined ? {} : { apiKey: seed.api_key }),
      });
      return { ...presentKey(key), api_key: apiKey };
    },
    async createWorkspace({ name, archive = new Uint8Array(EMPTY_TAR_GZ) }) {
      const form = new FormData();
      form.set("name", name);
      form.set("workspace", new Blob([archive]), "workspace.tar.gz");
      return asAdmin<Workspace>("POST", "/workspaces", form);
    },
    async createJob(spec, workspaceId = null) {
      const path = workspaceId === null ? {} : (await asAdmin<Workspace>("GET", `/workspaces/${workspaceId}`)).path;
      const workspace = typeof path === "string" ? { workspace_path: path } : {};
      const { job_id } = await asAdmin<{ job_id: string }>("POST", "/jobs", { spec: { ...spec, ...workspace } });
      return asAdmin<Job>("GET", `/jobs/${job_id}`);
    },
    async setJobStatus(jobId, status, error) {
      if (status === "running") return runner.force(jobId, "hold");
      if (status === "completed") return runner.force(jobId, { status });
      const { code, message } = typeof error === "object" ? error : { code: undefined, message: error ?? "failed" };
      return runner.force(jobId, { status, error: message, ...(code === undefined ? {} : { code: code as never }) });
    },
    advanceJobs: () => runner.settle(),
    async getJob(jobId) {
      await runner.settle();
      const job = await store.jobs.get(jobId);
      return job ? presentJob(job) : null;
    },
    async listJobs() {
      await runner.settle();
      return (await store.jobs.list({ limit: Number.MAX_SAFE_INTEGER })).map(presentJob);
    },
    async deliveries() {
      await runner.settle();
      return store.queuedDeliveries().map(({ delivery, envelope }) => ({
        delivery: presentDelivery(delivery),
        event: envelope as MockDelivery["event"],
      }));
    },
  };
  return { state, ready };
}
