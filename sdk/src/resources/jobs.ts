import type { APIPromise } from "../core/api-promise.js";
import type { CoreClient } from "../core/core-client.js";
import { APITimeoutError, APIUserAbortError, JobFailedError } from "../core/errors.js";
import { loadRuntime } from "../core/load-runtime.js";
import type { RequestOptions } from "../core/options.js";
import type { PagePromise } from "../core/pagination.js";
import { APIResource } from "../core/resource.js";
import type { components, operations } from "../generated/schema.js";
import { type StreamEventsOptions, streamJobEvents } from "./job-event-stream.js";

type Schemas = components["schemas"];
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
const DEFAULT_POLL_INTERVAL_MS = 2000;
const FIRST_POLL_MS = 100;

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
    return this.core.call(options, (fetch) => this.core.api.POST("/jobs", { body: { spec }, fetch }));
  }

  /** The jobs the key can see, newest first; iterate with `for await` for every page. `GET /jobs` */
  list(params: ListJobsParams = {}, options?: RequestOptions): PagePromise<Job> {
    return this.core.list(options, (fetch) => this.core.api.GET("/jobs", { params: { query: params }, fetch }));
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
      this.core.api.POST("/jobs/{job_id}/continue", { params: { path: { job_id: jobId } }, body: { spec }, fetch }),
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
  async waitFor(jobId: string, options: WaitForOptions = {}): Promise<Job> {
    const deadlineAt = this.core.clock.now() + (options.timeout ?? DEFAULT_WAIT_TIMEOUT_MS);
    const job = await this.get(jobId, { signal: options.signal });
    return new TurnWaiter(this, this.core, jobId, job.turns, deadlineAt, options).wait(job);
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
    const deadlineAt = this.core.clock.now() + (options.timeout ?? DEFAULT_WAIT_TIMEOUT_MS);
    await this.continue(jobId, spec, requestOptionsOf(options));
    // The continue answered once its turn was recorded, so the job's latest turn is the one it started.
    const job = await this.get(jobId, { signal: options.signal });
    return new TurnWaiter(this, this.core, jobId, job.turns, deadlineAt, options).wait(job);
  }
}

/** The request options among a waiting call's options (`signal` is both). */
function requestOptionsOf(options: WaitForOptions & RequestOptions): RequestOptions {
  const { timeout: _timeout, onStatus: _onStatus, pollInterval: _pollInterval, follow: _follow, ...request } = options;
  return request;
}

const isEnded = (status: string) => status === "completed" || status === "failed";

/** Why the waiter stopped its stream: its deadline passed. */
const DEADLINE = Symbol("deadline");

/** Waits for one turn of a job to end: by its event stream, else by polling. */
class TurnWaiter {
  private lastStatus: string | undefined;
  constructor(
    private readonly jobs: Jobs,
    private readonly core: CoreClient,
    private readonly jobId: string,
    private readonly turn: number,
    private readonly deadlineAt: number,
    private readonly options: WaitForOptions,
  ) {}

  async wait(first: Job): Promise<Job> {
    let job = first;
    if (this.settled(job)) return this.finish(job);
    if (this.options.follow !== "poll") {
      await this.follow();
      job = await this.jobs.get(this.jobId, { signal: this.options.signal });
      if (this.settled(job)) return this.finish(job);
    }
    return this.poll(job);
  }

  /** Reports a status change; true when this turn is over. */
  private settled(job: Job): boolean {
    if (job.status !== this.lastStatus) {
      this.lastStatus = job.status;
      this.options.onStatus?.(job.status, job);
    }
    // A job already past this turn (someone continued it) has ended this turn too.
    return isEnded(job.status) || job.turns > this.turn;
  }

  private finish(job: Job): Job {
    if (job.status === "failed") throw new JobFailedError(job);
    return job;
  }

  /**
   * Follows the event stream until this turn's final status event (with `onStatus`, each other status of the
   * turn is reported with the job as read then). Returns quietly when the stream cannot be used, or ends
   * without that event; the caller then reads the job, and polls if it has not ended.
   */
  private async follow(): Promise<void> {
    const { core } = this;
    const stop = new AbortController();
    const userSignal = this.options.signal;
    const onAbort = () => stop.abort(userSignal?.reason);
    if (userSignal?.aborted) onAbort();
    userSignal?.addEventListener("abort", onAbort, { once: true });
    const timer = new AbortController();
    core.sleep(Math.max(0, this.deadlineAt - core.clock.now()), timer.signal).then(
      () => stop.abort(DEADLINE),
      () => undefined,
    );
    let inTurn = this.turn <= 1;
    try {
      for await (const event of this.jobs.streamEvents(this.jobId, { signal: stop.signal })) {
        const data = event.data as { turn?: unknown; status?: unknown };
        if (event.type === "turn") inTurn = data.turn === this.turn;
        if (!inTurn || event.type !== "status") continue;
        // The turn's end: the caller reads the final job. A status on the way is read only for `onStatus`.
        if (isEnded(String(data.status))) return;
        if (this.options.onStatus === undefined || data.status === this.lastStatus) continue;
        if (this.settled(await this.jobs.get(this.jobId, { signal: stop.signal }))) return;
      }
    } catch (error) {
      if (stop.signal.reason === DEADLINE) throw this.timedOut();
      if (userSignal?.aborted) throw new APIUserAbortError(undefined, { cause: userSignal.reason });
      core.logger.info(`waiting for job ${this.jobId} by polling: its event stream failed (${String(error)})`);
    } finally {
      timer.abort();
      userSignal?.removeEventListener("abort", onAbort);
    }
  }

  private async poll(last: Job): Promise<Job> {
    const { clock, sleep } = this.core;
    // An explicit interval is kept as given; the default one starts short and doubles up to 2 s.
    let pollInterval = this.options.pollInterval ?? FIRST_POLL_MS;
    let job = last;
    for (;;) {
      const left = this.deadlineAt - clock.now();
      if (left <= 0) throw this.timedOut(job.status);
      try {
        await sleep(Math.min(pollInterval, left), this.options.signal);
      } catch (error) {
        throw new APIUserAbortError(undefined, { cause: error });
      }
      if (this.options.pollInterval === undefined) pollInterval = Math.min(pollInterval * 2, DEFAULT_POLL_INTERVAL_MS);
      job = await this.jobs.get(this.jobId, { signal: this.options.signal });
      if (this.settled(job)) return this.finish(job);
    }
  }

  private timedOut(status = this.lastStatus): APITimeoutError {
    const timeout = this.options.timeout ?? DEFAULT_WAIT_TIMEOUT_MS;
    return new APITimeoutError(`Job ${this.jobId} is still ${status} after ${timeout} ms; raise waitFor's timeout.`);
  }
}
