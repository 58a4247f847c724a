import { operations } from "../../server/src/generated/operations.js";
import { createRouter } from "../../server/src/http/router.js";

const router = createRouter(operations);

/**
 * The operationId a request is for, routed by the server's own router (the spec's operations table), or
 * undefined for a path or method the API does not have. A query string is ignored.
 * @example operationOf("POST", "/jobs/job_1/continue") // "continueJob"
 */
export function operationOf(method: string, path: string): string | undefined {
  try {
    return router.route(method, path.split("?")[0] ?? path).op.operationId;
  } catch {
    return undefined;
  }
}
