import type { CoreClient } from "../core/core-client.js";
import { APIError, APIUserAbortError } from "../core/errors.js";
import { KnifyError } from "../core/knify-error.js";
import { backoffDelay } from "../core/retry-delay.js";
import { parseSSE } from "../core/sse.js";
import type { components } from "../generated/schema.js";

type Job = components["schemas"]["Job"];
type JobEvent = components["schemas"]["JobEvent"];

/** Options of `jobs.events.stream` / `jobs.streamEvents`. */
export interface StreamEventsOptions {
  /**
   * Start after this `seq` (the last one you have), or `"now"`: after the events that exist when the stream
   * is opened (e.g. to follow only the turn a `continue` just started). Default: from the first event.
   */
  after?: number | "now" | undefined;
  /** Stops the stream; the iterator then throws `APIUserAbortError`. */
  signal?: AbortSignal | undefined;
}

/** Reads the job's state, to tell "the job ended" from "the connection was closed" when a stream ends quietly. */
type GetJob = (jobId: string, options: { signal?: AbortSignal | undefined }) => Promise<Job>;

const TERMINAL = new Set<string>(["completed", "failed"]);

/**
 * Follows a job's events live over SSE (`Accept: text/event-stream`) until the job ends. A dropped or
 * closed connection is resumed with `Last-Event-ID` (and `after`) set to the last `seq` received, so no
 * event is lost or repeated; the server's `retry:` sets the reconnection delay.
 *
 * The stream is over when the server closes it after a `status` event saying `completed` or `failed`, or
 * when the job, asked after a quiet close, has ended.
 */
export async function* streamJobEvents(
  core: CoreClient,
  getJob: GetJob,
  jobId: string,
  options: StreamEventsOptions = {},
): AsyncGenerator<JobEvent, void, undefined> {
  const { signal } = options;
  let after =
    options.after === "now" ? await (await import("./wait-for-turn.js")).lastSeq(core, jobId, signal) : options.after;
  let reconnectDelay: number | undefined;
  let quietConnections = 0;
  for (;;) {
    const resume = after === undefined ? undefined : String(after);
    const { data: body } = await core
      .call(signal === undefined ? undefined : { signal }, (fetch) =>
        core.api.GET("/jobs/{job_id}/events", {
          params: {
            path: { job_id: jobId },
            ...(resume === undefined ? {} : { query: { after: Number(resume) }, header: { "Last-Event-ID": resume } }),
          },
          headers: { Accept: "text/event-stream" },
          parseAs: "stream",
          fetch,
        }),
      )
      .withResponse();
    // An empty stream (the job had already ended, with nothing after `after`) has `Content-Length: 0`, which
    // openapi-fetch reads as no body: it is a quiet close, handled below like any other.

    let received = 0;
    let ended = false;
    try {
      const onRetry = (ms: number) => {
        reconnectDelay = ms;
      };
      for await (const message of body ? parseSSE(body, { onRetry }) : []) {
        // The server ends a stream whose key was revoked or expired with a problem; resuming cannot help.
        if (message.event === "error") throw streamError(message.data, jobId);
        const event = parseJobEvent(message.data, jobId);
        // After a reconnect the server may repeat what we already have; skip it.
        if (after !== undefined && event.seq <= after) continue;
        after = event.seq;
        received++;
        if (event.type === "status") ended = TERMINAL.has(String((event.data as Record<string, unknown>).status));
        yield event;
      }
    } catch (error) {
      if (signal?.aborted) throw new APIUserAbortError(undefined, { cause: signal.reason });
      if (error instanceof KnifyError) throw error;
      // The connection dropped mid-stream: resume below from `after`.
      core.logger.info(`event stream of ${jobId} dropped (${(error as Error).message}); resuming after ${after}`);
    }
    if (ended) return;
    if (received > 0) quietConnections = 0;
    else {
      // Nothing new on this connection: either the job had already ended, or a proxy closes idle streams.
      const job = await getJob(jobId, { signal });
      if (TERMINAL.has(job.status)) return;
      quietConnections++;
    }
    const delay = reconnectDelay ?? (quietConnections === 0 ? 0 : backoffDelay(quietConnections - 1, core.random));
    try {
      await core.sleep(delay, signal);
    } catch (error) {
      throw new APIUserAbortError(undefined, { cause: error });
    }
  }
}

/** The typed error (e.g. `AuthenticationError`) for the problem of a final `event: error`. */
function streamError(data: string, jobId: string): KnifyError {
  let problem: unknown;
  try {
    problem = JSON.parse(data);
  } catch {
    return new KnifyError(`The event stream of job ${jobId} ended with an error: ${data.slice(0, 200)}`);
  }
  const status = (problem as { status?: unknown } | null)?.status;
  return APIError.from(typeof status === "number" ? status : 500, problem, new Headers());
}

function parseJobEvent(data: string, jobId: string): JobEvent {
  try {
    const event = JSON.parse(data) as JobEvent;
    if (typeof event === "object" && event !== null && typeof event.seq === "number") return event;
  } catch {
    // reported below
  }
  throw new KnifyError(
    `The event stream of job ${jobId} sent something that is not a job event: ${data.slice(0, 200)}`,
  );
}
