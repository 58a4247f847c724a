import { authenticate } from "../auth/authenticate.js";
import { grants, type Permission } from "../auth/permissions.js";
import { canSee } from "../auth/scope.js";
import type { Clock } from "../clock.js";
import { operations } from "../generated/operations.js";
import { ProblemError } from "../http/problem.js";
import type { JobRecord } from "../store/jobs-repo.js";
import type { Store } from "../store/store.js";

// The spec's permission for following events, from the one table generated from it.
const permission = operations.find((op) => op.operationId === "listJobEvents")?.permission as Permission;

/**
 * The check an open event stream repeats (#15 item 4): does the credential that opened it still
 * authenticate — not revoked, not expired, not a rotated-out secret past its grace period — and may its
 * key still read this job? The same rules as at the start of a request: `authenticate`, `grants`, `canSee`.
 * @example followJobEvents(ctx, job.id, 0, { …, accessEnded: streamAccessCheck(store, clock, ctx.get("authorization"), job) });
 */
export function streamAccessCheck(
  store: Store,
  clock: Clock,
  authorization: string,
  job: Pick<JobRecord, "id" | "workspaceId">,
): () => Promise<ProblemError | null> {
  return async () => {
    let key: Awaited<ReturnType<typeof authenticate>>;
    try {
      key = await authenticate(authorization || undefined, store, clock.now());
    } catch (error) {
      if (!(error instanceof ProblemError)) throw error;
      return new ProblemError(
        "unauthorized",
        "The API key that opened this stream was revoked or has expired, or the rotated-out secret it used is past its grace period; the stream is closed. Reconnect with a valid key.",
      );
    }
    if (!grants(key.permissions, permission)) {
      return new ProblemError(
        "forbidden",
        `The key that opened this stream no longer has the permission ${permission}; the stream is closed.`,
        { missing_permission: permission },
      );
    }
    if (!canSee(key, job.workspaceId)) {
      return new ProblemError("not_found", `No job ${job.id} is visible to this key any more; the stream is closed.`);
    }
    return null;
  };
}
