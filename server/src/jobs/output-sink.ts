import type { NewJobEvent } from "../store/jobs-repo.js";

/**
 * Batches a turn's output lines into few store writes (one transaction per batch instead of per line), in
 * order, so a chatty agent does not turn into thousands of transactions a second.
 */
export class OutputSink {
  private buffer: NewJobEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (events: NewJobEvent[]) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly flushMs = 25,
    private readonly maxBatch = 200,
  ) {}

  push(event: NewJobEvent): void {
    this.buffer.push(event);
    if (this.buffer.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes what is buffered; resolves when every earlier batch is written too. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length > 0) this.chain = this.chain.then(() => this.write(batch)).catch(this.onError);
    return this.chain;
  }

  /** Drops what is buffered (the turn was taken away: cleanup or shutdown). */
  discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.buffer = [];
  }
}
