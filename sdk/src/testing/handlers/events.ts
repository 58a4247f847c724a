import { type MockResult, type OperationHandlers, ok } from "../context.js";
import { isFinished } from "../job-lifecycle.js";
import { nextLink } from "../paging.js";
import type { JobEvent, JobRecord } from "../records.js";
import type { MockState } from "../state.js";
import { visibleJob } from "./jobs.js";

// An open stream looks at the mock clock again after 1, 2, 4… ms, at most every MAX_POLL_MS. Polling happens
// only while the reader waits for data (a pull source), so an abandoned stream stops asking for more: msw tees
// mocked bodies, so the reader's cancel() may never reach this source.
const MAX_POLL_MS = 50;

/** One SSE message (https://html.spec.whatwg.org/multipage/server-sent-events.html): id = seq, event = type. */
const sseMessage = (event: JobEvent): string =>
  `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    // Never keep the test process alive for a stream nobody reads any more.
    if (typeof timer === "object" && "unref" in timer) timer.unref();
  });

/** Follows a job live: sends its events after `after`, and ends once the job's turn is finished. */
function eventStream(rec: JobRecord, after: number, state: MockState, signal: AbortSignal): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let sent = after;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (let wait = 1; !cancelled; wait = Math.min(wait * 2, MAX_POLL_MS)) {
        state.advanceJobs();
        const fresh = rec.events.filter((event) => event.seq > sent);
        for (const event of fresh) controller.enqueue(encoder.encode(sseMessage(event)));
        sent = fresh.at(-1)?.seq ?? sent;
        if (isFinished(rec.job.status)) return controller.close();
        if (fresh.length > 0) return;
        if (signal.aborted) return controller.error(signal.reason);
        await delay(wait);
      }
    },
    cancel() {
      cancelled = true;
    },
  });
}

/** `GET /jobs/{job_id}/events`: a page of events after `after`, or the live stream for `text/event-stream`. */
export const eventHandlers: OperationHandlers = {
  listJobEvents(req, state): MockResult {
    const rec = visibleJob(state, req);
    const resume = req.headers["last-event-id"];
    const after =
      typeof req.query.after === "number" ? req.query.after : typeof resume === "string" ? Number(resume) : 0;
    if ((req.raw.headers.get("accept") ?? "").includes("text/event-stream")) {
      return {
        status: 200,
        stream: eventStream(rec, after, state, req.raw.signal),
        headers: { "Cache-Control": "no-cache" },
      };
    }
    const limit = typeof req.query.limit === "number" ? req.query.limit : 20;
    const rest = rec.events.filter((event) => event.seq > after);
    const page = rest.slice(0, limit);
    const last = page.at(-1);
    return ok(page, rest.length > limit && last ? nextLink(req.url, "after", String(last.seq)) : {});
  },
};
