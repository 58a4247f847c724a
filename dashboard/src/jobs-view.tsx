import type { components, JobSpec } from "@knify/sdk";
import { useEffect, useState } from "preact/hooks";
import { Problem } from "./problem.js";
import { PromptField } from "./prompt-field.js";
import { can, useSession } from "./session.js";
import { specEnums } from "./spec.js";
import { useCall } from "./use-call.js";

type Job = components["schemas"]["Job"];
type JobStatus = components["schemas"]["JobStatus"];
const PAGE_SIZE = 20;

/**
 * Jobs: one page at a time (the API's cursor, from its `Link` header), filtered by status; and a form to
 * start a job (with `jobs:create`), which opens the new job's page.
 */
export function JobsView() {
  const { client, key } = useSession();
  const { error, busy, call } = useCall();
  const [status, setStatus] = useState<JobStatus | "">("");
  // The cursors of the pages before this one (for "Previous") and of this one.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ jobs: Job[]; next: string | undefined } | null>(null);
  const [statuses, setStatuses] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    void specEnums().then((enums) => setStatuses(enums.statuses));
  }, []);
  useEffect(() => {
    // A newer filter or page supersedes this request: its answer must not overwrite the newer one.
    const stale = new AbortController();
    void call(async () => {
      const pages = client.jobs
        .list(
          { limit: PAGE_SIZE, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) },
          { signal: stale.signal },
        )
        .pages();
      const first = (await pages.next()).value;
      if (first && !stale.signal.aborted) {
        setPage({ jobs: first.data, next: first.nextURL?.searchParams.get("cursor") ?? undefined });
      }
    });
    return () => stale.abort();
  }, [status, cursor]);

  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      {can(key, "jobs:create") && <CreateJob />}
      <div class="row">
        <label for="status-filter">Status</label>
        <select
          id="status-filter"
          value={status}
          onChange={(event) => {
            setStatus((event.target as HTMLSelectElement).value as JobStatus | "");
            setCursors([undefined]);
          }}
        >
          <option value="">any</option>
          {statuses.map((name) => (
            <option value={name} key={name}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <Problem shown={error} />
      <div class="table-wrap">
        <table aria-busy={busy}>
          <caption>Jobs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Status</th>
              <th scope="col">Type</th>
              <th scope="col">Prompt</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {page?.jobs.map((job) => (
              <tr key={job.id}>
                <td>
                  <a href={`#/jobs/${job.id}`}>
                    <code>{job.id}</code>
                  </a>
                </td>
                <td>
                  <span class={`status ${job.status}`}>{job.status}</span>
                </td>
                <td>{job.spec.job_type}</td>
                <td class="prompt-cell">{job.spec.prompt}</td>
                <td>{new Date(job.created_at).toLocaleString()}</td>
              </tr>
            ))}
            {page?.jobs.length === 0 && (
              <tr>
                <td colSpan={5}>No jobs{status ? ` with status ${status}` : ""}.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <nav class="row" aria-label="Pages">
        <button
          type="button"
          class="secondary"
          disabled={cursors.length < 2}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Previous
        </button>
        <button
          type="button"
          class="secondary"
          disabled={!page?.next}
          onClick={() => setCursors([...cursors, page?.next])}
        >
          Next
        </button>
      </nav>
    </section>
  );
}

function CreateJob() {
  const { client } = useSession();
  const { error, busy, call } = useCall();
  const [jobTypes, setJobTypes] = useState<string[]>([]);
  useEffect(() => {
    void specEnums().then((enums) => setJobTypes(enums.jobTypes.filter((type) => type !== "user_exam")));
  }, []);
  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const job = await call(() =>
      client.jobs.create({
        // The form offers the prompt-driven types (a user_exam needs fields this form does not ask for).
        job_type: String(form.get("job_type")) as Exclude<JobSpec["job_type"], "user_exam">,
        prompt: String(form.get("prompt") ?? ""),
      }),
    );
    if (job) location.hash = `#/jobs/${job.job_id}`;
  }
  return (
    <details class="panel">
      <summary>Start a job</summary>
      <form onSubmit={submit} class="grid">
        <label for="job-type">Job type</label>
        <select id="job-type" name="job_type">
          {jobTypes.map((name) => (
            <option value={name} key={name}>
              {name}
            </option>
          ))}
        </select>
        <PromptField id="job-prompt" label="Prompt" rows={3} busy={busy} submit="Start job" />
      </form>
      <Problem shown={error} />
    </details>
  );
}
