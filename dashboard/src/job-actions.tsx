import type { components } from "@knify/sdk";
import { useState } from "preact/hooks";
import { Problem } from "./problem.js";
import { PromptField } from "./prompt-field.js";
import { can, useSession } from "./session.js";
import { useCall } from "./use-call.js";

type Job = components["schemas"]["Job"];

/**
 * What can be done to the job now, per the spec's rules and the key's permissions: cancel a pending or
 * running turn (`jobs:continue`), continue a finished one with a new prompt (`jobs:continue`), clean up
 * its sandbox after a confirmation (`jobs:cleanup`), download the sandbox as a .tar.gz (`jobs:read`).
 */
export function JobActions({
  job,
  live,
  onChanged,
  onContinued,
}: {
  job: Job;
  live: boolean;
  onChanged(job: Job): void;
  onContinued(): void;
}) {
  const { client, key } = useSession();
  const { error, busy, call } = useCall();
  const [confirmCleanup, setConfirmCleanup] = useState(false);
  const active = job.status === "pending" || job.status === "running";
  const hasSandbox = job.cleaned_up_at === null;

  async function cancel() {
    const cancelled = await call(() => client.jobs.cancel(job.id));
    if (cancelled) onChanged(cancelled);
  }
  async function continueJob(event: Event) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const prompt = String(new FormData(form).get("prompt") ?? "");
    const handle = await call(() => client.jobs.continue(job.id, { prompt }));
    if (handle) {
      form.reset();
      onChanged({ ...job, status: handle.status });
      onContinued();
    }
  }
  async function cleanup() {
    const cleaned = await call(() => client.jobs.cleanup(job.id));
    setConfirmCleanup(false);
    if (cleaned) onChanged(cleaned);
  }
  async function download() {
    const blob = await call(async () => new Response(await client.jobs.archive(job.id)).blob());
    if (!blob) return;
    // A link to the bytes in memory: no second request, and the key stays out of any URL.
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = `${job.id}.tar.gz`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  return (
    <div class="actions">
      <div class="row">
        {active && can(key, "jobs:continue") && (
          <button type="button" class="danger" disabled={busy} onClick={cancel}>
            Cancel turn
          </button>
        )}
        {!active && !live && hasSandbox && can(key, "jobs:read") && (
          <button type="button" class="secondary" disabled={busy} onClick={download}>
            Download sandbox (.tar.gz)
          </button>
        )}
        {!active &&
          !live &&
          hasSandbox &&
          can(key, "jobs:cleanup") &&
          (confirmCleanup ? (
            <fieldset class="confirm">
              <legend class="visually-hidden">Confirm cleaning up the sandbox</legend>
              <button type="button" class="danger" disabled={busy} onClick={cleanup}>
                Yes, delete the sandbox
              </button>
              <button type="button" class="secondary" onClick={() => setConfirmCleanup(false)}>
                Keep it
              </button>
            </fieldset>
          ) : (
            <button type="button" class="secondary" onClick={() => setConfirmCleanup(true)}>
              Clean up sandbox
            </button>
          ))}
      </div>
      {!active && !live && hasSandbox && can(key, "jobs:continue") && (
        <form onSubmit={continueJob} class="grid">
          <PromptField id="continue-prompt" label="Next prompt" rows={2} busy={busy} submit="Continue job" />
        </form>
      )}
      <Problem shown={error} />
    </div>
  );
}
