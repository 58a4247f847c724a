import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { JobWebhookFactory } from "../store/jobs-repo.js";
import type { Store } from "../store/store.js";
import type { JobNotifier } from "./notifier.js";
import type { SandboxFiles } from "./sandbox-files.js";

/** Jobs cleaned per store query; the sweep goes on until none is left. */
const BATCH = 100;

export interface IdleSweepDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  notifier: JobNotifier;
  webhook: JobWebhookFactory;
  sandboxes: SandboxFiles;
}

/**
 * How often the sweep looks: a tenth of the TTL, so a sandbox outlives it by at most 10 %, at most once a
 * minute. (Tests set a TTL of a second and move an injected clock; the sweep then runs every 100 ms.)
 */
export function idleSweepIntervalMs(ttlMs: number): number {
  return Math.min(60_000, Math.max(50, Math.floor(ttlMs / 10)));
}

/**
 * Cleans up every job that has been finished and idle for `ttlMs` by `deps.clock` (issue 15: idle sandboxes
 * stayed for ever): the same cleanup as `POST /jobs/{id}/cleanup` — `cleaned_up_at`, a `system` event, the
 * `job.cleaned_up` webhook, the sandbox deleted — so a later continue answers 409 `job_not_continuable` (and archive/changes 410 `job_cleaned_up`). The
 * store re-checks each job inside its transaction, so a job continued meanwhile is left alone.
 * Returns the ids it cleaned.
 */
export async function sweepIdleSandboxes(deps: IdleSweepDeps, ttlMs: number): Promise<string[]> {
  const { store, clock, notifier, webhook, sandboxes } = deps;
  const cleaned: string[] = [];
  for (;;) {
    const cutoff = clock.now() - ttlMs;
    const ids = await store.sandboxes.idleJobs(cutoff, BATCH);
    for (const id of ids) {
      const result = await store.jobs.cleanup(id, clock.now(), webhook, cutoff);
      if (!result) continue;
      cleaned.push(id);
      notifier.jobChanged(id);
      // The sandbox and its base record, as POST /jobs/{id}/cleanup removes them.
      if (result.sandboxId !== null) await sandboxes.remove(result.sandboxId);
    }
    if (ids.length < BATCH) return cleaned;
  }
}
