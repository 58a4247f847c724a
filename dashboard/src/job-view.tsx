import type { components } from "@knify/sdk";
import { useEffect, useRef, useState } from "preact/hooks";
import { describeError, type Shown } from "./api.js";
import { JobActions } from "./job-actions.js";
import { Problem } from "./problem.js";
import { useSession } from "./session.js";
import { useCall } from "./use-call.js";

type Job = components["schemas"]["Job"];
type JobEvent = components["schemas"]["JobEvent"];

/**
 * A job's page: its spec, its status timeline and its events, followed live (SSE) until the turn ends; after
 * a continue, following resumes from the last event seen. Actions (cancel, continue, clean up, download) are
 * offered as the job's status and the key's permissions allow.
 */
export function JobView({ jobId }: { jobId: string }) {
  const { client, signOut } = useSession();
  const { error, call } = useCall();
  const [job, setJob] = useState<Job | null>(null);
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [live, setLive] = useState(false);
  const [streamError, setStreamError] = useState<Shown | null>(null);
  // Bumped after a continue: the stream is over once a turn ends, and the next turn needs following again.
  const [turn, setTurn] = useState(0);
  const lastSeq = useRef<number | undefined>(undefined);

  useEffect(() => {
    setEvents([]);
    setJob(null);
    lastSeq.current = undefined;
  }, [jobId]);

  useEffect(() => {
    const stop = new AbortController();
    setStreamError(null);
    void call(() => client.jobs.get(jobId)).then(async (first) => {
      if (!first || stop.signal.aborted) return;
      setJob(first);
      setLive(true);
      try {
        // The SDK resumes a dropped connection itself (Last-Event-ID), so no event is lost or repeated.
        for await (const event of client.jobs.events.stream(jobId, { signal: stop.signal, after: lastSeq.current })) {
          lastSeq.current = event.seq;
          setEvents((seen) => [...seen, event]);
          const status = event.type === "status" ? (event.data.status as Job["status"] | undefined) : undefined;
          if (status) setJob((current) => (current ? { ...current, status } : current));
        }
        // The turn ended: the job's final record (times, turns, error).
        setJob(await client.jobs.get(jobId, { signal: stop.signal }));
      } catch (thrown) {
        if (stop.signal.aborted) return;
        const shown = describeError(thrown);
        if (shown.unauthenticated) signOut(shown);
        else setStreamError(shown);
      } finally {
        if (!stop.signal.aborted) setLive(false);
      }
    });
    return () => stop.abort();
  }, [jobId, turn]);

  const timeline = [
    ...(job ? [{ status: "pending", at: job.created_at }] : []),
    ...events.flatMap((event) =>
      event.type === "status" ? [{ status: event.data.status, at: event.created_at }] : [],
    ),
  ].filter((entry, i, all) => i === 0 || all[i - 1]?.status !== entry.status);

  return (
    <section aria-labelledby="job-title">
      <p>
        <a href="#/jobs">← Jobs</a>
      </p>
      <h1 id="job-title">
        Job <code>{jobId}</code>
      </h1>
      <Problem shown={error} />
      <Problem shown={streamError} />
      {job && (
        <>
          <p>
            Status:{" "}
            <span class={`status ${job.status}`} data-testid="job-status" aria-live="polite">
              {job.status}
            </span>{" "}
            {job.turns > 0 && (
              <span class="muted" data-testid="job-turns">
                turn {job.turns}
              </span>
            )}{" "}
            {job.cleaned_up_at && <span class="muted">(sandbox cleaned up)</span>}{" "}
            {live && <small class="muted">(following live events)</small>}
          </p>
          {job.error && (
            <p class="problem">
              <strong>{job.error.code}</strong> {job.error.message}
            </p>
          )}
          <JobActions job={job} live={live} onChanged={setJob} onContinued={() => setTurn((n) => n + 1)} />
          <h2>Status timeline</h2>
          <ol class="timeline" data-testid="timeline">
            {timeline.map((entry) => (
              <li key={`${entry.status}-${entry.at}`}>
                <span class={`status ${entry.status}`}>{entry.status}</span>{" "}
                <time dateTime={entry.at}>{new Date(entry.at).toLocaleTimeString()}</time>
              </li>
            ))}
          </ol>
          <h2>Spec</h2>
          <pre>{JSON.stringify(job.spec, null, 2)}</pre>
          <h2>Events</h2>
          <ol class="events" data-testid="events">
            {events.map((event) => (
              <li key={event.seq}>
                <code>#{event.seq}</code> <strong>{event.type}</strong> <code>{JSON.stringify(event.data)}</code>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
