import { EventEmitter } from "node:events";

/**
 * In-process wake-ups: "job X has new events" and "a turn was queued". Followers and schedulers still poll
 * the store slowly, because another replica's writes never reach this process's notifier.
 */
export class JobNotifier {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per SSE follower of a job; there is no leak to warn about.
    this.emitter.setMaxListeners(0);
  }

  /** Job `jobId` changed (new events or status). */
  jobChanged(jobId: string): void {
    this.emitter.emit(`job:${jobId}`);
  }

  /** A turn was queued (created or continued). */
  queued(): void {
    this.emitter.emit("queued");
  }

  onJob(jobId: string, listener: () => void): () => void {
    this.emitter.on(`job:${jobId}`, listener);
    return () => this.emitter.off(`job:${jobId}`, listener);
  }

  onQueued(listener: () => void): () => void {
    this.emitter.on("queued", listener);
    return () => this.emitter.off("queued", listener);
  }
}

/**
 * A latch over a notifier subscription: `wait` returns at once if a wake-up came since the last wait, so a
 * change that lands between "read the store" and "go to sleep" is never missed.
 */
export class Wakeup {
  private pending = false;
  private wake: (() => void) | null = null;

  /** Call from the subscription (or to end a wait early, e.g. when the client leaves). */
  readonly signal = (): void => {
    this.pending = true;
    this.wake?.();
  };

  /** Resolves on the next signal, or after `timeoutMs` (the slow store poll). */
  async wait(timeoutMs: number): Promise<void> {
    if (!this.pending) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    this.pending = false;
  }
}
