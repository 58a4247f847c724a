import type { components } from "@knify/sdk";
import { useState } from "preact/hooks";
import { Problem } from "./problem.js";
import { can, useSession } from "./session.js";
import { TableHead } from "./table-head.js";
import { progressFetch } from "./upload-fetch.js";
import { useAll } from "./use-all.js";
import { useCall } from "./use-call.js";

type Workspace = components["schemas"]["Workspace"];

/** An upload may take a while on a slow link (the server takes up to 100 MiB): more than the SDK's default. */
const UPLOAD_TIMEOUT_MS = 30 * 60_000;

/**
 * Workspaces (`workspaces:read`): the ones the key can see; with `workspaces:write`, upload a `.tar.gz` as a new
 * workspace or in place of one's files, with the bytes sent shown as it goes.
 */
export function WorkspacesView() {
  const { client, key } = useSession();
  const { items: workspaces, error, reload } = useAll(() => client.workspaces.list({ limit: 100 }));
  const writable = can(key, "workspaces:write");

  return (
    <section aria-labelledby="workspaces-title">
      <h1 id="workspaces-title">Workspaces</h1>
      {writable && <Upload workspaces={workspaces ?? []} onUploaded={reload} />}
      <Problem shown={error} />
      <div class="table-wrap">
        <table class="stack">
          <caption>Workspaces, newest first</caption>
          <TableHead columns={["Name", "Id", "Path (for jobs)", "Files", "Size", "Updated"]} />
          <tbody>
            {workspaces?.map((workspace) => (
              <tr key={workspace.workspace_id} data-workspace-id={workspace.workspace_id}>
                <td>
                  {workspace.name}
                  {workspace.preset && <small class="muted"> (preset, read-only)</small>}
                </td>
                <td data-label="Id">
                  <code>{workspace.workspace_id}</code>
                </td>
                <td data-label="Path">
                  <code>{workspace.path}</code>
                </td>
                <td data-label="Files" data-field="file_count">
                  {workspace.file_count}
                </td>
                <td data-label="Size" data-field="size_bytes">
                  {formatBytes(workspace.size_bytes)}
                </td>
                <td data-label="Updated">{new Date(workspace.updated_at).toLocaleString()}</td>
              </tr>
            ))}
            {workspaces?.length === 0 && (
              <tr>
                <td colSpan={6}>No workspaces yet.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The upload form: a new workspace (name) or new files for an existing one, and its progress. */
function Upload({ workspaces, onUploaded }: { workspaces: Workspace[]; onUploaded(): Promise<void> }) {
  const { client } = useSession();
  const { error, busy, call } = useCall();
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [done, setDone] = useState<Workspace | null>(null);
  const [target, setTarget] = useState("");

  async function submit(event: Event) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const fields = new FormData(form);
    const file = fields.get("archive");
    if (!(file instanceof File)) return;
    setDone(null);
    setProgress({ sent: 0, total: file.size });
    const uploader = client.withOptions({
      fetch: progressFetch((sent, total) => setProgress({ sent, total })),
      timeout: UPLOAD_TIMEOUT_MS,
    });
    const stored = await call(() =>
      target
        ? uploader.workspaces.replace(target, { data: file })
        : uploader.workspaces.upload({ name: String(fields.get("name") ?? ""), data: file }),
    );
    if (!stored) {
      setProgress(null);
      return;
    }
    setDone(stored);
    form.reset();
    setTarget("");
    await onUploaded();
  }

  const writable = workspaces.filter((workspace) => !workspace.preset);
  const percent = progress && progress.total > 0 ? Math.floor((progress.sent / progress.total) * 100) : 0;
  return (
    <details class="panel" open>
      <summary>Upload a workspace (.tar.gz)</summary>
      <form onSubmit={submit} class="grid">
        <label for="upload-target">Upload as</label>
        <select
          id="upload-target"
          value={target}
          onChange={(event) => setTarget((event.target as HTMLSelectElement).value)}
        >
          <option value="">a new workspace</option>
          {writable.map((workspace) => (
            <option value={workspace.workspace_id} key={workspace.workspace_id}>
              new files for {workspace.name}
            </option>
          ))}
        </select>
        {!target && (
          <>
            <label for="upload-name">Name</label>
            <input
              id="upload-name"
              name="name"
              required
              maxLength={100}
              pattern="[A-Za-z0-9][A-Za-z0-9._\-]*"
              aria-describedby="upload-name-hint"
            />
            <small id="upload-name-hint" class="hint">
              Letters, digits, dot, dash and underscore; jobs see it at /workspaces/&lt;name&gt;.
            </small>
          </>
        )}
        <label for="upload-file">Archive</label>
        <input
          id="upload-file"
          name="archive"
          type="file"
          required
          accept=".tar.gz,.tgz,application/gzip"
          aria-describedby="upload-file-hint"
        />
        <small id="upload-file-hint" class="hint">
          Made with <code>tar -czf workspace.tar.gz -C my-dir .</code> (regular files and folders only).
        </small>
        <button type="submit" disabled={busy}>
          Upload
        </button>
      </form>
      {progress && (
        <p class="upload-progress">
          <label for="upload-progress">{busy ? "Uploading" : "Uploaded"}</label>{" "}
          <progress id="upload-progress" max={100} value={percent} />{" "}
          <span data-testid="upload-percent">{percent}%</span>{" "}
          <span class="muted">
            ({formatBytes(progress.sent)} of {formatBytes(progress.total)})
          </span>
        </p>
      )}
      {done && (
        <p role="status">
          Stored <strong>{done.name}</strong> ({done.file_count} files, {formatBytes(done.size_bytes)}): jobs use it
          with <code>workspace_path: "{done.path}"</code>.
        </p>
      )}
      <Problem shown={error} />
    </details>
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
