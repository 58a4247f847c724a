import type { CoreClient } from "../core/core-client.js";
import type * as Errors from "../core/errors.js";
import type { Job, JobEvent, Jobs, WaitForOptions } from "./jobs.js";

// It imports nothing of the SDK at run time (the error classes are handed over): a module shared with the
// entry would be split into a chunk of its own and cost more than it saves.
/** The error classes the waits throw. */
export type WaitErrors = Pick<typeof Errors, "APITimeoutError" | "APIUserAbortError" | "JobFailedError">;

// Loaded on the first wait (jobs.waitFor, createAndWait, continueAndWait) or stream from "now", not with the SDK: it keeps the `.`
// entry within its 15 KB budget (issue 11, part 2), as the runtime is (core/load-runtime.ts).

/** The largest page of events the API gives. */
const PAGE = 100;
const DEFAULT_POLL_INTERVAL_MS = 2000;
const FIRST_POLL_MS = 100;

const isEnded = (status: string) => status === "completed" || status === "failed";

/**
 * Waits for the job's latest turn to end: by its event stream, else by polling.
 * Written as closures rather than a class so the minifier can shorten every name (the `.` entry's size budget).
 */
export async function waitForTurn(
  jobs: Jobs,
  core: CoreClient,
  jobId: string,
  options: WaitForOptions,
  deadlineAt: number,
  timeout: number,
  { APITimeoutError, APIUserAbortError, JobFailedError }: WaitErrors,
): Promise<Job> {
  const { clock, sleep } = core;
  const userSignal = options.signal;
  let lastStatus: string | undefined;
  const timedOut = () =>
    new APITimeoutError(`Job ${jobId} is still ${lastStatus} after ${timeout} ms; raise waitFor's timeout.`);
  /** Reports a status change; true when this turn is over (a job already past it has ended it too). */
  const settled = (job: Job): boolean => {
    if (job.status !== lastStatus) {
      lastStatus = job.status;
      options.onStatus?.(job.status, job);
    }
    return isEnded(job.status) || job.turns > turn;
  };
  const finish = (job: Job): Job => {
    if (job.status === "failed") throw new JobFailedError(job);
    return job;
  };
  const read = (signal = userSignal) => jobs.get(jobId, { signal });

  /**
   * Follows the event stream until this turn's final status event (with `onStatus`, each other status of the
   * turn is reported with the job as read then). Returns quietly when the stream cannot be used, or ends
   * without that event; the caller then reads the job, and polls if it has not ended.
   */
  const follow = async (): Promise<void> => {
    // The stream's deadline is on the wall clock (AbortSignal.timeout); polling keeps to the client's clock.
    const deadline = AbortSignal.timeout(Math.max(0, deadlineAt - clock.now()));
    const signal = userSignal ? AbortSignal.any([userSignal, deadline]) : deadline;
    let inTurn = turn <= 1;
    try {
      for await (const event of jobs.streamEvents(jobId, { signal })) {
        const data = event.data as { turn?: unknown; status?: unknown };
        if (event.type === "turn") inTurn = data.turn === turn;
        if (!inTurn || event.type !== "status") continue;
        // The turn's end: the caller reads the final job. A status on the way is read only for `onStatus`.
        if (isEnded(String(data.status))) return;
        if (options.onStatus === undefined || data.status === lastStatus) continue;
        if (settled(await read(signal))) return;
      }
    } catch (error) {
      if (userSignal?.aborted) throw new APIUserAbortError(undefined, { cause: userSignal.reason });
      if (deadline.aborted) throw timedOut();
      core.logger.info(`job ${jobId}: event stream failed (${error}); polling`);
    }
  };

  let job = await read();
  const turn = job.turns;
  if (settled(job)) return finish(job);
  if (options.follow !== "poll") {
    await follow();
    job = await read();
    if (settled(job)) return finish(job);
  }
  // An explicit interval is kept as given; the default one starts short and doubles up to 2 s.
  let pollInterval = options.pollInterval ?? FIRST_POLL_MS;
  for (;;) {
    const left = deadlineAt - clock.now();
    if (left <= 0) throw timedOut();
    try {
      await sleep(Math.min(pollInterval, left), userSignal);
    } catch (error) {
      throw new APIUserAbortError(undefined, { cause: error });
    }
    if (options.pollInterval === undefined) pollInterval = Math.min(pollInterval * 2, DEFAULT_POLL_INTERVAL_MS);
    job = await read();
    if (settled(job)) return finish(job);
  }
}

/** The `seq` of the job's latest event (0 when it has none), reading its event pages. */
export async function lastSeq(core: CoreClient, jobId: string, signal: AbortSignal | undefined): Promise<number> {
  let after = 0;
  for (;;) {
    const query = { after, limit: PAGE };
    const page = (await core.call(signal === undefined ? undefined : { signal }, (fetch) =>
      core.api.GET("/jobs/{job_id}/events", { params: { path: { job_id: jobId }, query }, fetch }),
    )) as JobEvent[];
    const last = page.at(-1);
    if (last === undefined) return after;
    after = last.seq;
    if (page.length < PAGE) return after;
  }
}
