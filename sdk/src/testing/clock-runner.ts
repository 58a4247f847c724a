import type { Clock } from "../../../server/src/clock.js";
import type { RunContext, Runner, RunOutcome } from "../../../server/src/jobs/runner.js";
import { SimulatedRunner } from "../../../server/src/jobs/simulated-runner.js";
import type { MemoryStore } from "../../../server/src/store/memory/index.js";

/** A turn waiting for the mock clock: it ends at `due` (epoch ms), or earlier when a test ends it. */
interface Turn {
  due: number;
  end(): void;
}

/** How often parked turns look at the mock clock while nothing asks (an open event stream follows them). */
const POLL_MS = 10;
/** Most rounds `settle` waits for the scheduler before it answers anyway (each is one timer tick). */
const SETTLE_ROUNDS = 200;

/**
 * The server's simulator (its output, `[simulate:fail]`, `metadata.simulate`), timed by the mock clock instead of
 * real timers: a turn ends when the clock passes its start plus `durationMs`. `settle` lets the server's scheduler
 * claim queued turns and finish due ones, so a request sees the state as of the mock clock's now.
 */
export class ClockRunner implements Runner {
  private readonly turns = new Map<string, Turn>();
  /** The outcome a test chose with `state.setJobStatus` for a turn, instead of the simulator's. */
  private readonly forced = new Map<string, RunOutcome>();
  /** What a test chose for a turn not started yet: an outcome, or `hold` (keep it running). */
  private readonly orders = new Map<string, RunOutcome | "hold">();
  private readonly simulator: SimulatedRunner;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly clock: Clock,
    durationMs: number,
    private readonly store: () => MemoryStore,
  ) {
    this.simulator = new SimulatedRunner(durationMs, (ms, context) => this.park(ms, context));
  }

  async run(context: RunContext): Promise<RunOutcome> {
    const outcome = await this.simulator.run(context);
    const forced = this.forced.get(context.job.id);
    this.forced.delete(context.job.id);
    return forced ?? outcome;
  }

  /** Ends the current turn of `jobId` with `outcome`, or keeps it running until told otherwise (`hold`). */
  async force(jobId: string, outcome: RunOutcome | "hold"): Promise<void> {
    const turn = this.turns.get(jobId);
    if (turn && outcome === "hold") turn.due = Number.POSITIVE_INFINITY;
    else if (turn && outcome !== "hold") {
      this.forced.set(jobId, outcome);
      turn.end();
    } else if (this.store().unfinishedJobIds().includes(jobId)) this.orders.set(jobId, outcome);
    else
      throw new Error(
        `job ${jobId} has no turn queued or running (finished, cleaned up or unknown); continue it first`,
      );
    await this.settle();
  }

  /** Ends every turn the clock has reached, and waits until each unfinished job is a turn parked here. */
  async settle(): Promise<void> {
    for (let round = 0; round < SETTLE_ROUNDS; round++) {
      this.endDue();
      const parked = this.store()
        .unfinishedJobIds()
        .every((id) => this.turns.has(id));
      if (parked) return;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  private park(ms: number, context: RunContext): Promise<void> {
    const order = this.orders.get(context.job.id);
    this.orders.delete(context.job.id);
    if (order !== undefined && order !== "hold") this.forced.set(context.job.id, order);
    const due = order === "hold" ? Number.POSITIVE_INFINITY : this.clock.now() + ms;
    if (order === undefined ? ms <= 0 : order !== "hold") return Promise.resolve();
    if (context.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const end = () => {
        context.signal.removeEventListener("abort", end);
        this.turns.delete(context.job.id);
        resolve();
      };
      context.signal.addEventListener("abort", end, { once: true });
      this.turns.set(context.job.id, { due, end });
      this.watch();
    });
  }

  private endDue(): void {
    const now = this.clock.now();
    for (const turn of this.turns.values()) if (turn.due <= now) turn.end();
  }

  /** Polls the clock while turns wait on it: the test may move it without making a request. */
  private watch(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.endDue();
      if ([...this.turns.values()].every((turn) => turn.due === Number.POSITIVE_INFINITY)) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }, POLL_MS);
    // Node: do not keep a test process alive for a job nobody waits for. Browsers have no unref.
    (this.timer as { unref?: () => void }).unref?.();
  }
}
