import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { AttemptOutcome, ClaimedDelivery, WebhookRepo } from "../store/webhooks-repo.js";
import type { WebhookSettings } from "./config.js";
import type { Deliverer } from "./delivery.js";
import { nextAttemptAt } from "./schedule.js";
import type { SecretBox } from "./seal.js";
import { signWebhook } from "./sign.js";

/** What the worker needs; every side effect is injected. */
export interface DeliveryWorkerDeps {
  repo: WebhookRepo;
  deliverer: Deliverer;
  box: SecretBox;
  clock: Clock;
  logger: Logger;
  settings: Pick<
    WebhookSettings,
    "retryScheduleMs" | "jitter" | "pollIntervalMs" | "concurrency" | "fairness" | "leaseMs" | "shutdownGraceMs"
  >;
  userAgent: string;
  random?: () => number;
}

/** The reason an endpoint is disabled when its receiver answers 410. */
export const GONE_REASON = "the receiver answered 410 Gone";

/**
 * Sends due deliveries from the store's outbox. It polls every `pollIntervalMs` and is woken at once when
 * this process queues a delivery; it leases a batch (so replicas never send the same attempt twice), fairly
 * across workspaces and endpoints (see `WebhookRepo.claimDue`), sends up to `concurrency` at a time, and records each attempt with what comes next: done on 2xx, endpoint
 * disabled on 410, otherwise a retry on the schedule until it is used up.
 * @example const worker = new DeliveryWorker(deps); worker.start(); … await worker.stop();
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private ticking: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = false;

  constructor(private readonly deps: DeliveryWorkerDeps) {}

  start(): void {
    this.unsubscribe = this.deps.repo.onEnqueued(() => this.notify());
    this.notify();
  }

  /** Looks for due deliveries now instead of at the next poll. */
  notify(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.wakeAgain = true;
      return;
    }
    this.schedule(0);
  }

  /** Stops polling, lets attempts in flight finish for a moment, then aborts them (their leases are released). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.ticking;
    const settled = Promise.allSettled(this.inFlight);
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([
      settled,
      new Promise((resolve) => (grace = setTimeout(resolve, this.deps.settings.shutdownGraceMs))),
    ]);
    clearTimeout(grace);
    this.abort.abort();
    await settled;
    await this.deps.deliverer.close();
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        if (this.stopped) return;
        const again = this.wakeAgain;
        this.wakeAgain = false;
        this.schedule(again ? 0 : this.deps.settings.pollIntervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const room = this.deps.settings.concurrency - this.inFlight.size;
    if (room <= 0) return;
    try {
      const { leaseMs, fairness } = this.deps.settings;
      const claims = await this.deps.repo.claimDue(this.deps.clock.now(), room, leaseMs, fairness);
      for (const claim of claims) {
        const attempt: Promise<void> = this.attempt(claim)
          .catch((error: unknown) =>
            this.deps.logger.error({ err: error, delivery: claim.id }, "webhook attempt crashed"),
          )
          .finally(() => {
            this.inFlight.delete(attempt);
            this.notify(); // a slot is free: take the next due delivery without waiting for the poll
          });
        this.inFlight.add(attempt);
      }
    } catch (error) {
      this.deps.logger.error({ err: error }, "could not claim webhook deliveries");
    }
  }

  private async attempt(claim: ClaimedDelivery): Promise<void> {
    const { clock, logger, repo } = this.deps;
    const at = clock.now();
    let secret: string;
    try {
      secret = this.deps.box.open(claim.sealedSecret, claim.endpointId);
    } catch {
      const error = "the endpoint secret cannot be decrypted (KNIFY_SECRET_KEY or the data dir's secret.key changed?)";
      logger.error({ delivery: claim.id, endpoint: claim.endpointId }, error);
      await repo.recordAttempt(claim, { at, statusCode: null, error, durationMs: 0 }, this.afterFailure(claim));
      return;
    }
    const body = new TextEncoder().encode(claim.body);
    const headers = {
      "content-type": "application/json",
      "user-agent": this.deps.userAgent,
      ...signWebhook(body, secret, claim.eventId, Math.floor(at / 1000)),
    };
    const result = await this.deps.deliverer.send({ url: claim.url, body, headers, signal: this.abort.signal });
    if (result.aborted) {
      await repo.release(claim);
      return;
    }
    const code = result.statusCode;
    const outcome: AttemptOutcome =
      code !== null && code >= 200 && code < 300
        ? { next: "succeeded" }
        : code === 410
          ? { next: "failed", disableEndpoint: GONE_REASON }
          : this.afterFailure(claim);
    await repo.recordAttempt(
      claim,
      { at, statusCode: code, error: result.error, durationMs: result.durationMs },
      outcome,
    );
    const log = {
      delivery: claim.id,
      endpoint: claim.endpointId,
      event: claim.eventId,
      status_code: code,
      next: outcome.next,
    };
    if (outcome.next === "succeeded") logger.debug(log, "webhook delivered");
    else logger.warn({ ...log, error: result.error }, "webhook attempt failed");
  }

  private afterFailure(claim: ClaimedDelivery): AttemptOutcome {
    const { retryScheduleMs, jitter } = this.deps.settings;
    const at = nextAttemptAt(claim.roundAttempts + 1, this.deps.clock.now(), retryScheduleMs, jitter, this.deps.random);
    return at === null ? { next: "failed" } : { next: "retry", at };
  }
}
