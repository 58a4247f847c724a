// Quickstart: start a job, wait for it to finish, and print what it did.
//
//   KNIFY_API_KEY=knify_test_… KNIFY_BASE_URL=http://127.0.0.1:8080 npx tsx examples/quickstart.ts ["your prompt"]
//
// With a `knify_test_` key the job runs in the server's sandbox simulator: free, and done in a moment.

import { type JobEvent, JobFailedError, KnifyClient } from "@knify/sdk";

// Reads KNIFY_API_KEY and KNIFY_BASE_URL from the environment.
const client = new KnifyClient();

const prompt = process.argv[2] ?? "Add a README that explains how to run the tests";
const { job_id } = await client.jobs.create({ job_type: "cursor_task", prompt });
console.log(`Created job ${job_id}`);

try {
  const job = await client.jobs.waitFor(job_id, {
    pollInterval: 500,
    onStatus: (status) => console.log(`  status: ${status}`),
  });
  console.log(`Job ${job.id} completed at ${job.completed_at} in sandbox ${job.sandbox_id}`);
} catch (error) {
  // The job ran but failed: its `error` says why. Other errors (network, 401, 429…) propagate.
  if (!(error instanceof JobFailedError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}

// Every event of the job, in order; `for await` fetches further pages as needed.
console.log("Events:");
for await (const event of client.jobs.events(job_id)) console.log(`  ${describe(event)}`);

/** One line per event: status changes, agent output, turns. `event.data` is typed by `event.type`. */
function describe(event: JobEvent): string {
  switch (event.type) {
    case "status": {
      // A failed status carries the job's `error`: `{ code, message }`.
      const { status, error } = event.data;
      return `#${event.seq} status → ${status}${error ? ` (${error.message})` : ""}`;
    }
    case "output":
      return `#${event.seq} ${event.data.stream}: ${event.data.line}`;
    case "turn":
      return `#${event.seq} turn ${event.data.turn}: ${event.data.prompt}`;
    default:
      return `#${event.seq} ${event.type}: ${JSON.stringify(event.data)}`;
  }
}
