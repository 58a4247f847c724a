// Multi-turn: one job, several prompts, the same sandbox. Each turn's events are followed live (SSE),
// then the sandbox is cleaned up.
//
//   KNIFY_API_KEY=knify_test_… KNIFY_BASE_URL=http://127.0.0.1:8080 npx tsx examples/multi-turn.ts

import { ConflictError, type JobEvent, KnifyClient } from "@knify/sdk";

const client = new KnifyClient();

const prompts = [
  "Find the flaky test in the payments suite",
  "Fix it, and explain the root cause in the commit message",
  "Now run the whole suite three times to make sure it is stable",
] as const;

const { job_id } = await client.jobs.create({ job_type: "cursor_task", prompt: prompts[0] });
console.log(`Created job ${job_id}`);

// The last event seen: each turn's stream starts after it, so no event is printed twice.
let lastSeq = 0;
for (const [index, prompt] of prompts.entries()) {
  // A job can be continued once its previous turn has ended (`completed` or `failed`).
  if (index > 0) await client.jobs.continue(job_id, { prompt });
  console.log(`Turn ${index + 1}: ${prompt}`);
  // The stream ends by itself when the turn ends.
  for await (const event of client.jobs.events.stream(job_id, { after: lastSeq })) {
    lastSeq = event.seq;
    const line = describe(event);
    if (line) console.log(`  ${line}`);
  }
}

const job = await client.jobs.get(job_id);
console.log(`Job ${job.id} is ${job.status} after ${job.turns} turns, sandbox ${job.sandbox_id}`);

// Cleaning up deletes the sandbox; the job stays readable but can no longer be continued.
await client.jobs.cleanup(job_id);
console.log(`Cleaned up job ${job_id}`);
try {
  await client.jobs.continue(job_id, { prompt: "One more thing…" });
} catch (error) {
  if (!(error instanceof ConflictError)) throw error;
  console.log(`Continuing now is refused (${error.status} ${error.code})`);
}

/** A line for the events worth showing: status changes and agent output. */
function describe(event: JobEvent): string | undefined {
  if (event.type === "status") return `status → ${String(event.data.status)}`;
  if (event.type === "output") return `${String(event.data.stream)}: ${String(event.data.line)}`;
  return undefined;
}
