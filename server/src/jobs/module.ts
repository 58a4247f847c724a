import { ProblemError } from "../http/problem.js";
import type { FeatureModule, ModuleDeps } from "../module.js";

const notYet = async (): Promise<never> => {
  throw new ProblemError("service_unavailable", "This operation is not available on this server yet.");
};

/** Placeholder: the jobs feature (handlers and background work). */
export function createJobsModule(deps: ModuleDeps): FeatureModule {
  void deps;
  return {
    handlers: {
      createJob: notYet,
      listJobs: notYet,
      getJob: notYet,
      listJobEvents: notYet,
      continueJob: notYet,
      cleanupJob: notYet,
    },
  };
}
