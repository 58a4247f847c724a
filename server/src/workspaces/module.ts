import { ProblemError } from "../http/problem.js";
import type { FeatureModule, ModuleDeps } from "../module.js";

const notYet = async (): Promise<never> => {
  throw new ProblemError("service_unavailable", "This operation is not available on this server yet.");
};

/** Placeholder: the workspaces feature (handlers and background work). */
export function createWorkspacesModule(deps: ModuleDeps): FeatureModule {
  void deps;
  return {
    handlers: {
      createWorkspace: notYet,
      listWorkspaces: notYet,
      getWorkspace: notYet,
      replaceWorkspace: notYet,
      deleteWorkspace: notYet,
    },
  };
}
