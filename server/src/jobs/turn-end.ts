import type { JobRecord } from "../store/jobs-repo.js";
import type { Store } from "../store/store.js";
import { type JobNotifier, Wakeup } from "./notifier.js";
import { isFinished } from "./rules.js";

/** How often a waiter re-reads the store, for turns that end on another replica (whose notifier is not ours). */
const POLL_MS = 1000;

/**
 * Waits until job `jobId`'s current turn ends (completed or failed), it is cleaned up, `deadline` passes, or
 * `signal` aborts (the client left); returns the job as it is then. Knify's Advanced Usage page sends its
 * continues back to back, so a continue waits for the running turn instead of refusing it at once.
 */
export async function waitForTurnEnd(
  store: Store,
  notifier: JobNotifier,
  jobId: string,
  deadline: number,
  signal: AbortSignal,
  now: () => number,
): Promise<JobRecord | null> {
  const wakeup = new Wakeup();
  const unsubscribe = notifier.onJob(jobId, wakeup.signal);
  signal.addEventListener("abort", wakeup.signal, { once: true });
  try {
    for (;;) {
      const job = await store.jobs.get(jobId);
      if (!job || isFinished(job.status) || job.cleanedUpAt !== null) return job;
      const left = deadline - now();
      if (left <= 0 || signal.aborted) return job;
      await wakeup.wait(Math.min(POLL_MS, left));
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", wakeup.signal);
  }
}
