import type { APIPromise } from "../core/api-promise.js";
import type { CoreClient } from "../core/core-client.js";
import { APITimeoutError, APIUserAbortError, JobFailedError } from "../core/errors.js";
import { loadRuntime } from "../core/load-runtime.js";
import type { RequestOptions } from "../core/options.js";
import type { PagePromise } from "../core/pagination.js";
import { APIResource } from "../core/resource.js";
import type { components, operations } from "../generated/schema.js";
// The closed wire types openapi-fetch checks requests against. A request typed with the public, open enums is
// cast to them: a value newer than this SDK goes to the server, which decides (see scripts/generate.mjs).
import type { components as WireComponents, operations as WireOperations } from "../generated/wire.js";
import { type StreamEventsOptions, streamJobEvents } from "./job-event-stream.js";

type Schemas = components["schemas"];
type Wire = WireComponents["schemas"];
type WireListJobsParams = NonNullable<WireOperations["listJobs"]["parameters"]["query"]>;
/** A job: its spec, status and timestamps, with `error` when it failed. */
export type Job = Schemas["Job"];
/** What creating or continuing a job returns. */
export type JobHandle = Schemas["JobHandle"];
/** One event of a job (status change, output line, turn). */
export type JobEvent = Schemas["JobEvent"];
/** What a job does: `job_type` plus its fields. */
export type JobSpec = Schemas["CreateJobRequest"]["spec"];
/** Why a job failed: `code` (`cancelled`, `timed_out`, `agent_failed`, …) and `message`. */
export type JobError = Schemas["JobError"];
/** One file the agent added, modified or deleted in the sandbox. */
export type JobChange = Schemas["JobChange"];
/** The next turn of a job. */
export type ContinueSpec = Schemas["ContinueSpec"];
/** `pending`, `running`, `completed` or `failed` (extensible). */
export type JobStatus = Schemas["JobStatus"];
/** Query parameters of `jobs.list`. */
export type ListJobsParams = NonNullable<operations["listJobs"]["parameters"]["query"]>;
/** Query parameters of `jobs.events`. */
export type ListJobEventsParams = NonNullable<operations["listJobEvents"]["parameters"]["query"]>;

/** Options of `jobs.waitFor` and `jobs.createAndWait`. */
export interface WaitForOptions {
  /** Give up (with `APITimeoutError`) after this many ms. Default 3600000 (one hour). */
  timeout?: number | undefined;
  /** Stops waiting; the call then rejects with `APIUserAbortError`. */
  signal?: AbortSignal | undefined;
  /** Called with the job whenever its status changes (and once with the first status seen). */
  onStatus?: ((status: JobStatus, job: Job) => void) | undefined;
  /**
   * Ms between polls, when polling. Default: the first poll after 100 ms, then twice as long each time up to
   * 2000, so a short job is seen done within a fraction of a second and a long one costs one request per 2 s.
   */
  pollInterval?: number | undefined;
  /**
   * How to learn that the turn ended. `"stream"` (the default) follows the job's event stream — one request,
   * answered the moment the job ends — and polls only when the stream cannot be used (a proxy that refuses
   * it, too many streams for the key, …). `"poll"` only polls.
   */
  follow?: "stream" | "poll" | undefined;
}

/** `jobs.archive`: the sandbox as a `.tar.gz` stream, plus `.extractTo()` to unpack it into a directory. */
export interface JobArchiveMethod {
  (jobId: string, options?: RequestOptions): APIPromise<ReadableStream<Uint8Array>>;
  /** Downloads the sandbox and unpacks it into `dir` (Node only); see {@link Jobs.extractArchive}. */
  extractTo(jobId: string, dir: string, options?: RequestOptions): Promise<void>;
}

/** `jobs.events`: a page of events, plus `.stream()` to follow them live. */
export interface JobEventsMethod {
  (jobId: string, params?: ListJobEventsParams, options?: RequestOptions): PagePromise<JobEvent>;
  /** Follows the job's events live (SSE) until the job ends; see {@link Jobs.streamEvents}. */
  stream(jobId: string, options?: StreamEventsOptions): AsyncGenerator<JobEvent, void, undefined>;
}

const DEFAULT_WAIT_TIMEOUT_MS = 60 * 60 * 1000;

/** Jobs: create them, follow them, continue them, clean them up. */
export class Jobs extends APIResource {
  /**
   * A job's events in order; iterate with `for await` for every page. `jobs.events.stream(id)` follows
   * them live. `GET /jobs/{job_id}/events`
   */
  readonly events: JobEventsMethod;

  /**
   * What the agent left: the job's sandbox as a `.tar.gz` stream (paths relative to the sandbox; links
   * stored as links). `jobs.archive.extractTo(id, dir)` unpacks it. A cleaned-up job is a `GoneError`.
   * `GET /jobs/{job_id}/archive`
   *
   * @example
   * await client.jobs.archive.extractTo(job.id, "./out");
   */
  readonly archive: JobArchiveMethod;

  constructor(core: CoreClient) {
    super(core);
    const list = (jobId: string, params: ListJobEventsParams = {}, options?: RequestOptions): PagePromise<JobEvent> =>
      this.core.list(options, (fetch) =>
        this.core.api.GET("/jobs/{job_id}/events", { params: { path: { job_id: jobId }, query: params }, fetch }),
      );
    this.events = Object.assign(list, {
      stream: (jobId: string, options?: StreamEventsOptions) => this.streamEvents(jobId, options),
    });
    const archive = (jobId: string, options?: RequestOptions): APIPromise<ReadableStream<Uint8Array>> =>
      this.core.call(options, (fetch) =>
        this.core.api.GET("/jobs/{job_id}/archive", {
          params: { path: { job_id: jobId } },
          parseAs: "stream",
          fetch,
        }),
      ) as APIPromise<ReadableStream<Uint8Array>>;
    this.archive = Object.assign(archive, {
      extractTo: (jobId: string, dir: string, options?: RequestOptions) => this.extractArchive(jobId, dir, options),
    });
  }

  /** Downloads the job's sandbox and unpacks it into `dir`, made if missing (Node only). */
  async extractArchive(jobId: string, dir: string, options?: RequestOptions): Promise<void> {
    await (await loadRuntime()).extractArchive(await this.archive(jobId, options), dir);
  }

  /**
   * The files the agent added, modified or deleted: the sandbox against the files it started from, sorted
   * by path. A cleaned-up job is a `GoneError`. `GET /jobs/{job_id}/changes`
   */
  changes(jobId: string, options?: RequestOptions): APIPromise<JobChange[]> {
    return this.core.call(options, (fetch) =>
      this.core.api.GET("/jobs/{job_id}/changes", { params: { path: { job_id: jobId } }, fetch }),
    );
  }

  /**
   * Stops the job's current turn: a pending job never starts, a running agent is killed. The job ends
   * `failed` with `error.code` `"cancelled"` and keeps its sandbox, so it can be continued. A job that is
   * not pending or running is a `ConflictError`. `POST /jobs/{job_id}/cancel`
   */
  cancel(jobId: string, options?: RequestOptions): APIPromise<Job> {
    return this.core.call(options, (fetch) =>
      this.core.api.POST("/jobs/{job_id}/cancel", { params: { path: { job_id: jobId } }, fetch }),
    );
  }

  /**
   * Starts a job in a new sandbox. `POST /jobs`
   *
   * @example
   * const { job_id } = await client.jobs.create({ job_type: "cursor_task", prompt: "Hello" });
   */
  create(spec: JobSpec, options?: RequestOptions): APIPromise<JobHandle> {
    return this.core.call(options, (fetch) =>
      this.core.api.POST("/jobs", { body: { spec: spec as Wire["TypedJobSpec"] }, fetch }),
    );
  }

  /** The jobs the key can see, newest first; iterate with `for await` for every page. `GET /jobs` */
  list(params: ListJobsParams = {}, options?: RequestOptions): PagePromise<Job> {
    return this.core.list(options, (fetch) =>
      this.core.api.GET("/jobs", { params: { query: params as WireListJobsParams }, fetch }),
    );
  }

  /** One job in detail. `GET /jobs/{job_id}` */
  get(jobId: string, options?: RequestOptions): APIPromise<Job> {
    return this.core.call(options, (fetch) =>
      this.core.api.GET("/jobs/{job_id}", { params: { path: { job_id: jobId } }, fetch }),
    );
  }

  /** Follows a job's events live over SSE until it ends, resuming after dropped connections. */
  streamEvents(jobId: string, options?: StreamEventsOptions): AsyncGenerator<JobEvent, void, undefined> {
    return streamJobEvents(this.core, (id, opts) => this.get(id, opts), jobId, options);
  }

  /**
   * Starts another turn in the same sandbox with a new prompt. `spec.job_type` may be given (Knify's guides
   * do) and must be the job's own type. `POST /jobs/{job_id}/continue`
   */
  continue(jobId: string, spec: ContinueSpec, options?: RequestOptions): APIPromise<JobHandle> {
    return this.core.call(options, (fetch) =>
      this.core.api.POST("/jobs/{job_id}/continue", {
        params: { path: { job_id: jobId } },
        body: { spec: spec as Wire["ContinueSpec"] },
        fetch,
      }),
    );
  }

  /** Stops the job if it runs and deletes its sandbox. `POST /jobs/{job_id}/cleanup` */
  cleanup(jobId: string, options?: RequestOptions): APIPromise<Job> {
    return this.core.call(options, (fetch) =>
      this.core.api.POST("/jobs/{job_id}/cleanup", { params: { path: { job_id: jobId } }, fetch }),
    );
  }

  /**
   * Waits until the job's current turn ends, following its event stream (see `follow`). Resolves with the
   * job when it `completed`; rejects with `JobFailedError` (carrying the job and its `error`) when it
   * `failed`, and with `APITimeoutError` after `timeout`. A later turn's end is never mistaken for this one's,
   * nor an earlier turn's.
   *
   * @example
   * const job = await client.jobs.waitFor(job_id, { onStatus: (status) => console.log(status) });
   */
  waitFor(jobId: string, options: WaitForOptions = {}): Promise<Job> {
    return this.waitForTurn(jobId, options, this.core.clock.now());
  }

  /** Creates a job and waits for it to end; see {@link Jobs.waitFor}. */
  async createAndWait(spec: JobSpec, options: WaitForOptions & RequestOptions = {}): Promise<Job> {
    const { job_id } = await this.create(spec, requestOptionsOf(options));
    return this.waitFor(job_id, options);
  }

  /**
   * Continues the job and waits for the turn it started to end (not an earlier one still running when it was
   * sent: a continue waits for that turn first); see {@link Jobs.waitFor}.
   *
   * @example
   * const job = await client.jobs.continueAndWait(job_id, { prompt: "Now add tests" });
   */
  async continueAndWait(
    jobId: string,
    spec: ContinueSpec,
    options: WaitForOptions & RequestOptions = {},
  ): Promise<Job> {
    const startedAt = this.core.clock.now();
    await this.continue(jobId, spec, requestOptionsOf(options));
    // The continue answered once its turn was recorded, so the job's latest turn is the one it started.
    return this.waitForTurn(jobId, options, startedAt);
  }

  /** Waits for the job's latest turn to end (see wait-for-turn.ts, loaded on first use). */
  private async waitForTurn(jobId: string, options: WaitForOptions, startedAt: number): Promise<Job> {
    const timeout = options.timeout ?? DEFAULT_WAIT_TIMEOUT_MS;
    const { waitForTurn } = await import("./wait-for-turn.js");
    return waitForTurn(this, this.core, jobId, options, startedAt + timeout, timeout, {
      APITimeoutError,
      APIUserAbortError,
      JobFailedError,
    });
  }
}

/** The request options among a waiting call's options (`signal` is both). */
function requestOptionsOf(options: WaitForOptions & RequestOptions): RequestOptions {
  const { timeout: _timeout, onStatus: _onStatus, pollInterval: _pollInterval, follow: _follow, ...request } = options;
  return request;
}
