import { authenticate } from "../auth/authenticate.js";
import { grants, type Permission } from "../auth/permissions.js";
import { refuseRotatedOutAdministration } from "../auth/rotated-out.js";
import type { Operation } from "../generated/operations.js";
import type { AuthenticatedKey, Store } from "../store/store.js";
import { ProblemError } from "./problem.js";
import { rateLimitHeaders } from "./rate-limit-headers.js";
import { type CoreRequest, headerOf } from "./request.js";

/**
 * The first three steps of the pipeline: authenticate (401) → rate limit (429) → authorize from the spec's
 * permission (403). The rate-limit headers go into `responseHeaders` as soon as they are known, so the 429
 * and 403 answers carry them too.
 */
export async function admit(
  op: Operation,
  request: CoreRequest,
  params: Record<string, string>,
  store: Store,
  now: number,
  responseHeaders: Record<string, string>,
): Promise<AuthenticatedKey> {
  const key = await authenticate(
    headerOf(request, "authorization") || undefined,
    store,
    now,
    request.authorizationCount,
  );
  const admission = await store.requests.admit(key.id, key.rateLimit, now);
  Object.assign(responseHeaders, rateLimitHeaders(admission));
  if (!admission.allowed) {
    const seconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
    throw new ProblemError(
      "rate_limited",
      `The key's limit of ${admission.limit} requests per minute is used up; retry in ${seconds} second${seconds === 1 ? "" : "s"}.`,
      {},
      { "Retry-After": String(seconds) },
    );
  }
  // x-knify-self-access: a key may always read its own record and usage.
  const own = op.selfAccess && params.key_id === key.id;
  if (op.permission && !own && !grants(key.permissions, op.permission as Permission)) {
    throw new ProblemError(
      "forbidden",
      `This operation needs the permission ${op.permission}, which the key does not have. Ask an administrator for a key with it.`,
      { missing_permission: op.permission },
    );
  }
  refuseRotatedOutAdministration(key, op.permission, own);
  return key;
}
