import { ProblemError } from "../http/problem.js";
import { PRESET_ID_PREFIX } from "../workspaces/preset-id.js";

/**
 * Ids under `ws_preset_` belong to the server's pre-configured workspaces, which every key sees and none
 * owns: a key scoped to one would be a tenant sharing a namespace with presets (and with every other key
 * scoped to it), so such a scope is refused (400) rather than half-working.
 */
export function refusePresetWorkspace(workspaceId: string | null): void {
  if (workspaceId === null || !workspaceId.startsWith(PRESET_ID_PREFIX)) return;
  const message = `must not start with ${PRESET_ID_PREFIX}, which names pre-configured workspaces`;
  throw new ProblemError(
    "validation_failed",
    `The request has 1 problem: body /workspace_id ${message}. Scope the key to a workspace id of your own (e.g. ws_team_a).`,
    { errors: [{ location: "body", path: "/workspace_id", message }] },
  );
}
