/**
 * In-process wake-ups: "job X has new events" and "a turn was queued". Followers and schedulers still poll
 * the store slowly, because another replica's writes never reach this process's notifier.
 */
export class JobNotifier {
  /** Listeners by topic (`job:<id>` or `queued`); a plain map keeps this runtime-neutral (no node:events). */
  private readonly listeners = new Map<string, Set<() => void>>();

  /** Job `jobId` changed (new events or status). */
  jobChanged(jobId: string): void {
    this.emit(`job:${jobId}`);
  }

  /** A turn was queued (created or continued). */
  queued(): void {
    this.emit("queued");
  }

  onJob(jobId: string, listener: () => void): () => void {
    return this.on(`job:${jobId}`, listener);
  }

  onQueued(listener: () => void): () => void {
    return this.on("queued", listener);
  }

  private emit(topic: string): void {
    for (const listener of [...(this.listeners.get(topic) ?? [])]) listener();
  }

  private on(topic: string, listener: () => void): () => void {
    const set = this.listeners.get(topic) ?? new Set();
    set.add(listener);
    this.listeners.set(topic, set);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(topic) === set) this.listeners.delete(topic);
    };
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
