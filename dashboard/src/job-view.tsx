import type { components } from "@knify/sdk";
import { useEffect, useState } from "preact/hooks";
import { describeError } from "./api.js";
import { Problem } from "./problem.js";
import { useSession } from "./session.js";
import { useCall } from "./use-call.js";

type Job = components["schemas"]["Job"];
type JobEvent = components["schemas"]["JobEvent"];

/** A job's page: its spec, its status timeline and its events, followed live (SSE) until the job ends. */
export function JobView({ jobId }: { jobId: string }) {
  const { client, signOut } = useSession();
  const { error, call } = useCall();
  const [job, setJob] = useState<Job | null>(null);
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [live, setLive] = useState(false);
  const [streamError, setStreamError] = useState<ReturnType<typeof describeError> | null>(null);

  useEffect(() => {
    const stop = new AbortController();
    setEvents([]);
    void call(() => client.jobs.get(jobId)).then(async (first) => {
      if (!first || stop.signal.aborted) return;
      setJob(first);
      setLive(true);
      try {
        // The SDK follows the stream and resumes after a dropped connection from the last event it saw.
        for await (const event of client.jobs.events.stream(jobId, { signal: stop.signal })) {
          setEvents((seen) => [...seen, event]);
          const status = event.type === "status" ? (event.data.status as Job["status"] | undefined) : undefined;
          if (status) setJob((current) => (current ? { ...current, status } : current));
        }
        // Ended: the job's final record (times, turns, error).
        const last = await client.jobs.get(jobId, { signal: stop.signal });
        setJob(last);
      } catch (thrown) {
        if (stop.signal.aborted) return;
        const shown = describeError(thrown);
        if (shown.unauthenticated) signOut(shown);
        else setStreamError(shown);
      } finally {
        setLive(false);
      }
    });
    return () => stop.abort();
  }, [jobId]);

  const timeline = [
    ...(job ? [{ status: "pending", at: job.created_at }] : []),
    ...events
      .filter((event) => event.type === "status" && typeof event.data.status === "string")
      .map((event) => ({ status: String(event.data.status), at: event.created_at })),
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
            {live && <small class="muted">(following live events)</small>}
          </p>
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
