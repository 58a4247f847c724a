import { PROMPT_TEMPLATES } from "../../generated/constants.js";
import type { JobRecord } from "../../store/jobs-repo.js";

/** The templates of `fh_e2e_tools` and `user_exam`, stated once in the spec (AgentPrompts). */
const templates = PROMPT_TEMPLATES;

/**
 * The prompt a turn gives its agent: the first turn of `fh_e2e_tools` and `user_exam` is built from the
 * job's fields with the spec's template; every other turn passes `spec.prompt` as it is.
 * @example agentPrompt(job) // "Examine the activity of user u_42 from 2025-11-01T00:00:00Z to …"
 */
export function agentPrompt(job: Pick<JobRecord, "spec" | "turns">): string {
  const { spec: jobSpec } = job;
  const template = templates[jobSpec.job_type];
  if (job.turns > 1 || template === undefined) return jobSpec.prompt ?? "";
  const fields: Record<string, string> = {
    prompt: jobSpec.prompt ?? "",
    user_id: jobSpec.user_id ?? "",
    "time_range.from": jobSpec.time_range?.from ?? "",
    "time_range.to": jobSpec.time_range?.to ?? "",
  };
  // One pass over the template, so a field's value that looks like "{prompt}" is never expanded again.
  return template.replace(/\{([a-z_.]+)\}/g, (whole, name: string) => fields[name] ?? whole);
}
