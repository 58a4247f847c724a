import { unknownSession } from "../../../../server/src/jobs/rules.js";
import { canSee, findVisible, type MockRequest, type OperationHandlers, ok } from "../context.js";
import { isFinished } from "../job-lifecycle.js";
import { pageNewestFirst } from "../paging.js";
import { ProblemError } from "../problem.js";
import type { JobRecord, JobSpec, KeyRecord } from "../records.js";
import type { MockState } from "../state.js";

const workspaceOfJob = (rec: JobRecord) => rec.job.workspace_id;

/** The job, hidden (404) when it lives in a workspace the key cannot see. */
export const visibleJob = (state: MockState, req: MockRequest): JobRecord =>
  findVisible(state.jobs, String(req.params.job_id), workspaceOfJob, req.key, "job");

/**
 * The workspace a new job belongs to: the one at `spec.workspace_path`, else the key's own workspace.
 * A path the key cannot see answers 404, like any object of another workspace.
 */
function jobWorkspace(state: MockState, spec: JobSpec, key: KeyRecord | null): string | null {
  const scope = key?.key.workspace_id ?? null;
  if (spec.workspace_path === undefined) return scope;
  for (const { workspace } of state.workspaces.values()) {
    if (workspace.path === spec.workspace_path && canSee(key, workspace.workspace_id)) return workspace.workspace_id;
  }
  throw new ProblemError(
    "not_found",
    `No workspace at ${spec.workspace_path} is visible to this key. Upload it first, or check spec.workspace_path.`,
  );
}

/** Jobs: create, list, get, continue and clean up. */
export const jobHandlers: OperationHandlers = {
  createJob(req, state) {
    const { spec } = req.body as { spec: JobSpec };
    // As the server: only a session a job visible to the key carries may be resumed.
    const session = spec.session_id;
    if (
      session !== undefined &&
      ![...state.jobs.values()].some(
        (rec) =>
          canSee(req.key, rec.job.workspace_id) &&
          (rec.job.session_id === session || rec.job.cursor_session_id === session),
      )
    ) {
      throw unknownSession(session);
    }
    const job = state.createJob(spec, jobWorkspace(state, spec, req.key));
    return ok({ job_id: job.id, status: job.status });
  },

  listJobs(req, state) {
    const status = req.query.status;
    const visible = [...state.jobs.values()].filter(
      (rec) => canSee(req.key, rec.job.workspace_id) && (status === undefined || rec.job.status === status),
    );
    const page = pageNewestFirst(visible, (rec) => rec.order, req.query, req.url);
    return ok(
      page.items.map((rec) => rec.job),
      page.headers,
    );
  },

  getJob(req, state) {
    return ok(visibleJob(state, req).job);
  },

  continueJob(req, state) {
    const rec = visibleJob(state, req);
    const { id, status } = rec.job;
    if (rec.job.cleaned_up_at !== null) {
      throw new ProblemError(
        "job_not_continuable",
        `Job ${id} was cleaned up at ${rec.job.cleaned_up_at}: its sandbox is gone, so it cannot be continued. Create a new job.`,
      );
    }
    if (!isFinished(status)) {
      throw new ProblemError(
        "job_not_continuable",
        `Job ${id} is ${status}; wait until it is completed or failed, then continue it.`,
      );
    }
    const { spec } = req.body as {
      spec: { job_type?: JobSpec["job_type"]; prompt: string; model?: JobSpec["model"]; metadata?: unknown };
    };
    if (spec.job_type !== undefined && spec.job_type !== rec.job.spec.job_type) {
      throw new ProblemError(
        "validation_failed",
        `The request has 1 problem: body /spec/job_type is ${spec.job_type}, but job ${id} is a ${rec.job.spec.job_type} job; a job keeps its type across turns.`,
        {
          errors: [
            {
              location: "body",
              path: "/spec/job_type",
              message: `must be the job's own type, ${rec.job.spec.job_type}`,
            },
          ],
        },
      );
    }
    const job = state.continueJob(id, spec);
    return ok({ job_id: job.id, status: job.status });
  },

  cleanupJob(req, state) {
    return ok(state.cleanupJob(visibleJob(state, req).job.id));
  },

  cancelJob(req, state) {
    const rec = visibleJob(state, req);
    const { id, status } = rec.job;
    if (isFinished(status)) {
      throw new ProblemError(
        "conflict",
        `Job ${id} is ${status}: only a pending or running job can be cancelled. To run it again, continue it.`,
      );
    }
    return ok(state.cancelJob(id));
  },

  getJobArchive(req, state) {
    const rec = sandboxOf(state, req);
    // The mock runs no agent, so the sandbox is exactly what it was made from: an empty archive, or the upload.
    const stream = rec.sandbox === null ? emptyTarGz() : new Blob([rec.sandbox.slice()]).stream();
    return {
      status: 200,
      stream,
      contentType: "application/gzip",
      headers: { "Content-Disposition": `attachment; filename="${rec.job.id}.tar.gz"` },
    };
  },

  listJobChanges(req, state) {
    sandboxOf(state, req);
    // Nothing ever changes a mock sandbox.
    return ok([]);
  },
};

/** The job whose sandbox is asked for: 410 once it was cleaned up. */
function sandboxOf(state: MockState, req: MockRequest): JobRecord {
  const rec = visibleJob(state, req);
  if (rec.job.cleaned_up_at !== null) {
    throw new ProblemError(
      "job_cleaned_up",
      `Job ${rec.job.id} was cleaned up at ${rec.job.cleaned_up_at}; its sandbox is gone.`,
    );
  }
  return rec;
}

/** A `.tar.gz` with no entries: the two 512-byte zero blocks that end a tar archive, gzipped. */
function emptyTarGz(): ReadableStream<Uint8Array> {
  return new Blob([new Uint8Array(1024)]).stream().pipeThrough(new CompressionStream("gzip"));
}
