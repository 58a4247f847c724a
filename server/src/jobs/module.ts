import type { FeatureModule, ModuleDeps } from "../module.js";
import { AgentRunner } from "./agents/agent-runner.js";
import { CommandRunner } from "./command-runner.js";
import { loadJobsConfig } from "./config.js";
import { diskSandboxFiles } from "./disk-sandbox-files.js";
import { jobHandlers } from "./handlers.js";
import { idleSweepIntervalMs, sweepIdleSandboxes } from "./idle-sweep.js";
import { loadSandboxConfig } from "./isolation/config.js";
import { createIsolation } from "./isolation/create-isolation.js";
import type { Isolation } from "./isolation/isolation.js";
import { JobNotifier } from "./notifier.js";
import { jobWebhooks } from "./present.js";
import { sweepOrphanSandboxes } from "./sandbox.js";
import { sandboxesDir } from "./sandbox-paths.js";
import { RunRegistry, Scheduler } from "./scheduler.js";
import { SimulatedRunner } from "./simulated-runner.js";

/** The `error` of a turn that was running when its server stopped or crashed. */
export const RESTART_ERROR = "the server restarted while the job was running";

/** How often, as a share of the lease, this replica renews its claims and looks for other replicas' expired ones. */
const RENEWALS_PER_LEASE = 6;

/**
 * The jobs feature: the `/jobs` handlers, and the schedulers that run queued turns (the simulator always,
 * for test keys; the command runner with `KNIFY_RUNNER=command`, the agent CLIs with `KNIFY_RUNNER=agents`),
 * and the sandbox sweeps: orphans at start, idle sandboxes every {@link idleSweepIntervalMs}. Settings come
 * from `deps.env` (see `loadJobsConfig`); invalid ones fail here, at start.
 * @example const jobs = createJobsModule(deps); await jobs.start?.();
 */
export function createJobsModule(deps: ModuleDeps): FeatureModule {
  const config = loadJobsConfig(deps.env, deps.config.replicaId);
  const { store, clock, logger } = deps;
  const createdAt = Date.now();
  const notifier = new JobNotifier();
  const runs = new RunRegistry();
  const webhook = jobWebhooks(clock);
  const sandboxes = diskSandboxFiles(deps.config.dataDir, deps.presets, logger);
  const schedulerDeps = {
    store,
    clock,
    logger,
    notifier,
    runs,
    webhook,
    sandboxes,
    replicaId: config.replicaId,
    leaseMs: config.leaseMs,
  };
  // Simulated turns are timers, not processes, so they do not count against KNIFY_MAX_CONCURRENT_JOBS.
  const schedulers = [new Scheduler(schedulerDeps, "simulated", new SimulatedRunner(config.simulatorDelayMs), 1000)];
  // The simulated runner runs no code, so only the command and agents runners need a jail (issue 16).
  let isolation: Isolation | null = null;
  if (config.agentCommand !== null && config.runner === "command") {
    // The command runner runs a local command: no network unless the operator opens it.
    const sandbox = loadSandboxConfig(deps.env, { defaultNetwork: "none", dataDir: deps.config.dataDir });
    isolation = createIsolation(sandbox, deps.env);
    const runner = new CommandRunner({
      command: config.agentCommand,
      timeoutMs: config.jobTimeoutMs,
      isolation,
      limits: sandbox.limits,
    });
    schedulers.push(new Scheduler(schedulerDeps, "command", runner, config.maxConcurrentJobs));
  }
  if (config.runner === "agents") {
    // Agent CLIs call their model's API: the network is on unless the operator closes it.
    const sandbox = loadSandboxConfig(deps.env, { defaultNetwork: "full", dataDir: deps.config.dataDir });
    isolation = createIsolation(sandbox, deps.env);
    const runner = new AgentRunner({
      timeoutMs: config.jobTimeoutMs,
      env: deps.env,
      isolation,
      limits: sandbox.limits,
    });
    schedulers.push(new Scheduler(schedulerDeps, "agents", runner, config.maxConcurrentJobs));
  }
  let maintenance: NodeJS.Timeout | undefined;
  let idleSweep: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;
  let unfollow: (() => void) | undefined;
  const stopping = new AbortController();

  /** One run of the idle sweep at a time: a slow one (many deletions) is not overtaken by the next tick. */
  function sweepIdle(): void {
    sweeping ??= sweepIdleSandboxes(schedulerDeps, config.sandboxTtlMs)
      .then((cleaned) => {
        if (cleaned.length > 0) logger.info({ jobs: cleaned }, "cleaned up idle sandboxes");
      })
      .catch((error: unknown) => logger.error({ err: error }, "the idle sandbox sweep failed"))
      .finally(() => {
        sweeping = undefined;
      });
  }

  /** Renews this replica's claims, stops turns it no longer holds, and fails turns of replicas that died. */
  async function maintain(): Promise<void> {
    const held = new Set(await store.jobs.renewLeases(config.replicaId, clock.now(), config.leaseMs));
    for (const id of runs.ids()) if (!held.has(id)) void runs.abort(id);
    const lost = await store.jobs.recover(null, clock.now(), RESTART_ERROR, webhook);
    for (const id of lost.failed) notifier.jobChanged(id);
  }

  return {
    handlers: jobHandlers({
      stopping: stopping.signal,
      store,
      clock,
      logger,
      config,
      sandboxes,
      notifier,
      runs,
      webhook,
      presets: deps.presets,
    }),

    async start() {
      if (isolation !== null) {
        // Fail closed: no jailed runner starts without a jail that works (the error says what to install).
        if (isolation.jailed) await isolation.probe();
        else {
          logger.warn(
            "KNIFY_SANDBOX_ISOLATION=none: agent turns run UNJAILED as the server's user and can read its data dir, secret key and every sandbox",
          );
        }
      }
      // Nothing of this replica runs yet, so any turn still claimed by it died with the previous process.
      const recovered = await store.jobs.recover(config.replicaId, clock.now(), RESTART_ERROR, webhook);
      if (recovered.failed.length + recovered.requeued.length > 0) {
        logger.warn({ failed: recovered.failed, requeued: recovered.requeued }, "recovered jobs after a restart");
      }
      // Before any turn starts here: sandboxes of jobs that no longer exist, and copies cut short by a crash.
      const orphans = await sweepOrphanSandboxes(
        sandboxesDir(deps.config.dataDir),
        (sandboxIds) => store.sandboxes.liveSandboxIds(sandboxIds),
        createdAt,
      );
      if (orphans.length > 0) logger.warn({ removed: orphans }, "removed orphaned sandbox directories");
      // Other replicas' commits (PostgreSQL): SSE followers and idle schedulers here wake at once, not at their poll.
      unfollow = store.feed?.onJob((jobId, queued) => {
        notifier.jobChanged(jobId);
        if (queued) notifier.queued();
      });
      for (const scheduler of schedulers) scheduler.start();
      idleSweep = setInterval(sweepIdle, idleSweepIntervalMs(config.sandboxTtlMs));
      idleSweep.unref();
      maintenance = setInterval(() => {
        maintain().catch((error: unknown) => logger.error({ err: error }, "job maintenance failed"));
      }, config.leaseMs / RENEWALS_PER_LEASE);
      maintenance.unref();
    },

    drain() {
      stopping.abort();
    },

    async stop() {
      stopping.abort();
      unfollow?.();
      clearInterval(maintenance);
      clearInterval(idleSweep);
      await sweeping;
      for (const scheduler of schedulers) scheduler.stop();
      // Stop the agents, then hand this replica's turns back at once (the running ones fail with RESTART_ERROR,
      // claimed ones go back to the queue), instead of leaving them to the lease expiry other replicas wait for.
      await runs.abortAll();
      const released = await store.jobs.recover(config.replicaId, clock.now(), RESTART_ERROR, webhook);
      for (const id of released.failed) notifier.jobChanged(id);
    },
  };
}
