// Upload a directory as a workspace (or replace its files if it exists), then run a job in it.
//
//   KNIFY_API_KEY=knify_test_… KNIFY_BASE_URL=http://127.0.0.1:8080 npx tsx examples/upload-workspace.ts [dir] [name]
//
// Without a directory, a small sample project is written to a temp dir and uploaded. The key needs
// `workspaces:read`, `workspaces:write`, `jobs:create` and `jobs:read` (a key made without --permissions has them).

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { KnifyClient, type Workspace } from "@knify/sdk";

const client = new KnifyClient();

const dir = process.argv[2] ?? (await sampleProject());
const name = process.argv[3] ?? basename(dir).replace(/[^a-zA-Z0-9._-]/g, "-");
// The SDK archives the directory itself (a .tar.gz, like `tar -czf - -C dir .`); skip what agents do not need.
const source = { path: dir, filter: (path: string) => !/(^|\/)(node_modules|\.git)(\/|$)/.test(path) };

// Replace the files of an existing workspace (atomically) rather than fail: names are unique, and a key
// limited to one workspace owns exactly that one.
const existing = await findExisting(name);
const workspace = existing
  ? await client.workspaces.replace(existing.workspace_id, source)
  : await client.workspaces.upload({ name, ...source });
console.log(`${existing ? "Replaced" : "Uploaded"} workspace ${workspace.workspace_id} (${workspace.name})`);
console.log(`  path: ${workspace.path}`);
console.log(`  files: ${workspace.file_count}, ${workspace.size_bytes} bytes`);

// Jobs name the workspace by its path; the agent then works on these files.
const job = await client.jobs.createAndWait(
  { job_type: "cursor_task", prompt: "Summarise what this project does", workspace_path: workspace.path },
  { pollInterval: 500 },
);
console.log(`Job ${job.id} ${job.status} in workspace ${job.workspace_id}`);

if (process.argv[2] === undefined) await rm(dir, { recursive: true, force: true });

async function findExisting(wanted: string): Promise<Workspace | undefined> {
  const { workspace_id: scope } = await client.keys.verify();
  for await (const each of client.workspaces.list()) {
    if (each.name === wanted || each.workspace_id === scope) return each;
  }
  return undefined;
}

/** A tiny project in a fresh temp dir, so the example runs without arguments. */
async function sampleProject(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "knify-example-"));
  await writeFile(join(root, "README.md"), "# Example\n\nA tiny project for a Knify agent.\n");
  await writeFile(join(root, "index.js"), 'console.log("hello from the workspace");\n');
  return root;
}
