import { canSee, findVisible, type MockRequest, type OperationHandlers, ok } from "../context.js";
import { pageNewestFirst } from "../paging.js";
import { ProblemError } from "../problem.js";
import type { WorkspaceRecord } from "../records.js";
import type { MockState } from "../state.js";

const workspaceOf = (rec: WorkspaceRecord) => rec.workspace.workspace_id;

const visibleWorkspace = (state: MockState, req: MockRequest): WorkspaceRecord =>
  findVisible(state.workspaces, String(req.params.workspace_id), workspaceOf, req.key, "workspace");

/**
 * The uploaded archive's bytes. The mock does not unpack it (file_count stays 0), but it does refuse what is
 * not gzip at all (RFC 1952 magic bytes 1f 8b), as the real server would.
 */
function archive(req: MockRequest): Uint8Array {
  if (req.partsProblem) throw req.partsProblem;
  const part = req.parts.workspace;
  const bytes = typeof part === "string" ? new TextEncoder().encode(part) : (part ?? new Uint8Array());
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw new ProblemError(
      "invalid_archive",
      "The workspace part is not a gzip archive. Make it with `tar -czf workspace.tar.gz my-dir/`.",
    );
  }
  return bytes;
}

/** Workspaces: upload, list, get, replace and delete. */
export const workspaceHandlers: OperationHandlers = {
  createWorkspace(req, state) {
    const bytes = archive(req);
    const scope = req.key?.key.workspace_id ?? null;
    // A scoped key creates exactly its own workspace (keeping the id); if it exists, that is a 409.
    const seed = { name: String(req.parts.name), size_bytes: bytes.byteLength, archive: bytes };
    return ok(state.createWorkspace(scope === null ? seed : { ...seed, workspace_id: scope }));
  },

  listWorkspaces(req, state) {
    const visible = [...state.workspaces.values()].filter((rec) => canSee(req.key, workspaceOf(rec)));
    const page = pageNewestFirst(visible, (rec) => rec.order, req.query, req.url);
    return ok(
      page.items.map((rec) => rec.workspace),
      page.headers,
    );
  },

  getWorkspace(req, state) {
    return ok(visibleWorkspace(state, req).workspace);
  },

  replaceWorkspace(req, state) {
    const rec = visibleWorkspace(state, req);
    const bytes = archive(req);
    rec.archive = bytes;
    Object.assign(rec.workspace, {
      size_bytes: bytes.byteLength,
      file_count: 0,
      updated_at: state.now().toISOString(),
    });
    state.emit(rec.workspace.workspace_id, "workspace.updated", structuredClone(rec.workspace));
    return ok(rec.workspace);
  },

  deleteWorkspace(req, state) {
    const rec = visibleWorkspace(state, req);
    const id = rec.workspace.workspace_id;
    const busy = [...state.jobs.values()].some(
      (job) => job.job.workspace_id === id && (job.job.status === "pending" || job.job.status === "running"),
    );
    if (busy) {
      throw new ProblemError(
        "workspace_busy",
        `Jobs are running in workspace ${id}; wait for them or clean them up first.`,
      );
    }
    state.workspaces.delete(id);
    return { status: 204 };
  },
};
