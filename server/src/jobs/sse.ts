import type { HandlerResult } from "../http/operation.js";
import { type ProblemError, problemBody } from "../http/problem.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import { type JobNotifier, Wakeup } from "./notifier.js";
import { presentEvent } from "./present.js";
import { isFinished } from "./rules.js";

export interface FollowOptions {
  store: Store;
  notifier: JobNotifier;
  logger: Logger;
  keepAliveMs: number;
  /** The slow store poll, for events written by other replicas. */
  pollMs?: number;
  /**
   * Asked every keep-alive interval: null while the caller may still follow the job, else why not (its key
   * was revoked, expired, or its secret's grace period ended). The stream then ends with that problem.
   */
  accessEnded: () => Promise<ProblemError | null>;
  /** The request id quoted in that final problem. */
  requestId: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Called once when the stream is over, however it ended. */
  onEnd?: () => void;
  /** Aborted when the server shuts down: the stream ends cleanly, and the client resumes with `Last-Event-ID`. */
  stopping?: AbortSignal;
}

const PAGE = 200;

/**
 * Streams a job's events as server-sent events (HTML Living Standard §9.2) from `after` until the job's
 * turn ends: `id: <seq>`, `event: <type>`, `data: <JSON event>`. A `: keep-alive` comment keeps idle
 * proxies from closing the connection. Stops as soon as the client goes away, and with a final `event: error`
 * (a problem document) once the caller's access has ended. The body is a web `ReadableStream`: written as
 * fast as the client reads (backpressure), cancelled when the adapter drops it.
 */
export function followJobEvents(jobId: string, after: number, options: FollowOptions): HandlerResult {
  const encoder = new TextEncoder();
  const wakeup = new Wakeup();
  let closed = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Resolves the writer waiting for the client to read (or for the stream to close). */
  let drained: (() => void) | null = null;
  const onClose = () => {
    closed = true;
    wakeup.signal();
    drained?.();
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        drained?.();
      },
      cancel: onClose,
    },
    { highWaterMark: 16 * 1024, size: (chunk) => chunk.byteLength },
  );
  options.signal.addEventListener("abort", onClose, { once: true });
  const unsubscribe = options.notifier.onJob(jobId, wakeup.signal);
  if (options.stopping?.aborted) onClose();
  options.stopping?.addEventListener("abort", onClose, { once: true });
  const keepAlive = setInterval(() => void keepAliveOrEnd(), options.keepAliveMs);

  // #15: a stream must not outlive its key; the check rides on the keep-alive so an idle stream ends too.
  async function keepAliveOrEnd(): Promise<void> {
    const problem = await options.accessEnded().catch((error: unknown) => {
      options.logger.error({ err: error, job_id: jobId }, "checking a stream's key failed");
      return null;
    });
    if (!problem) return write(": keep-alive\n\n");
    await write(`event: error\ndata: ${JSON.stringify(problemBody(problem, options.requestId))}\n\n`);
    onClose();
  }

  async function write(text: string): Promise<void> {
    if (closed) return;
    controller.enqueue(encoder.encode(text));
    while (!closed && (controller.desiredSize ?? 0) <= 0) {
      await new Promise<void>((resolve) => {
        drained = resolve;
      });
      drained = null;
    }
  }

  async function run(): Promise<void> {
    let last = after;
    while (!closed) {
      // Read the status before the events: when it is final, every event of the turn is already written
      // (the final status event commits with the status), so draining them afterwards misses nothing.
      const job = await options.store.jobs.get(jobId);
      const ended = job === null || isFinished(job.status);
      for (;;) {
        const events = await options.store.jobs.events(jobId, last, PAGE);
        for (const event of events) {
          await write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(presentEvent(event))}\n\n`);
          last = event.seq;
        }
        if (events.length < PAGE || closed) break;
      }
      if (ended) break;
      await wakeup.wait(options.pollMs ?? 1000);
    }
  }

  run()
    .catch((error: unknown) => options.logger.error({ err: error, job_id: jobId }, "following job events failed"))
    .finally(() => {
      clearInterval(keepAlive);
      unsubscribe();
      options.stopping?.removeEventListener("abort", onClose);
      options.signal.removeEventListener("abort", onClose);
      // Already cancelled by the reader: closing again would throw.
      try {
        controller.close();
      } catch {}
      options.onEnd?.();
    });

  return {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      // nginx buffers responses unless told not to, which would hold events back.
      "X-Accel-Buffering": "no",
    },
    stream,
  };
}
