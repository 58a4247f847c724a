import type { OperationHandlers } from "../context.js";
import { ok } from "../context.js";

/** `GET /`: the service is up, at the spec's version. */
export function healthHandlers(version: string): OperationHandlers {
  return {
    getHealth: () => ok({ status: "ok", version }),
  };
}
