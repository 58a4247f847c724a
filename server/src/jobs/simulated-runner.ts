import type { RunContext, Runner, RunOutcome } from "./runner.js";

/** The marker in a prompt that makes the simulator fail the turn (documented for SDK users' tests). */
export const SIMULATE_FAIL_MARKER = "[simulate:fail]";
export const SIMULATED_FAILURE = "simulated failure";

/** The longest a `metadata.simulate = "hold"` turn runs before it completes on its own. */
export const SIMULATED_HOLD_MS = 10 * 60 * 1000;

/**
 * Whether a turn asks the simulator to keep running until it is cancelled or cleaned up (at most
 * SIMULATED_HOLD_MS): `metadata.simulate` is "hold". For SDK users' tests of cancel flows.
 */
export function wantsSimulatedHold(spec: RunContext["job"]["spec"]): boolean {
  return spec.metadata?.simulate === "hold";
}

/** Whether a turn asks the simulator to fail: the prompt holds `[simulate:fail]` or `metadata.simulate` is "fail". */
export function wantsSimulatedFailure(spec: {
  prompt?: string | undefined;
  metadata?: { simulate?: unknown } | undefined;
}): boolean {
  return (spec.prompt ?? "").includes(SIMULATE_FAIL_MARKER) || spec.metadata?.simulate === "fail";
}

/** How the simulator lets a turn's time pass: resolves after `ms`, or at once when the turn's signal aborts. */
export type SimulatedWait = (ms: number, context: RunContext) => Promise<void>;

/**
 * The sandbox simulator: no agent runs. It echoes the prompt as output lines, waits `delayMs` and completes,
 * or fails with "simulated failure" when asked to. Deterministic, so tests can assert its exact output.
 * The wait is a real timer by default; `@knify/sdk/testing` passes one on its mock clock.
 */
export class SimulatedRunner implements Runner {
  constructor(
    private readonly delayMs: number,
    private readonly wait: SimulatedWait = (ms, context) => delay(ms, context.signal),
  ) {}

  async run(context: RunContext): Promise<RunOutcome> {
    const { job } = context;
    context.output(
      "stdout",
      `simulator: turn ${job.turns} of ${job.id} (${job.spec.job_type}, model ${job.spec.model})`,
    );
    for (const line of describeTurn(job.spec)) context.output("stdout", line);
    await this.wait(wantsSimulatedHold(job.spec) ? SIMULATED_HOLD_MS : this.delayMs, context);
    if (context.signal.aborted) return { status: "failed", error: "aborted", code: "cancelled" };
    if (wantsSimulatedFailure(job.spec)) {
      context.output("stderr", "simulator: failing as asked");
      return { status: "failed", error: SIMULATED_FAILURE };
    }
    context.output("stdout", "simulator: done");
    return { status: "completed" };
  }
}

function describeTurn(spec: RunContext["job"]["spec"]): string[] {
  if (spec.prompt !== undefined)
    return spec.prompt
      .split(/\r?\n/)
      .slice(0, 20)
      .map((line) => `prompt: ${line}`);
  const range = spec.time_range ? ` from ${spec.time_range.from} to ${spec.time_range.to}` : "";
  return [`exam: user ${spec.user_id ?? "?"}${range}`];
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
