/** The enums the dashboard offers, read from the spec this server serves instead of a copy of its own. */
export interface SpecEnums {
  permissions: string[];
  statuses: string[];
  jobTypes: string[];
  webhookEventTypes: string[];
}

let loaded: Promise<SpecEnums> | undefined;

/** The permission, job status, job type and webhook event names, from `/openapi.json` (fetched once per page load). */
export function specEnums(): Promise<SpecEnums> {
  loaded ??= fetch("/openapi.json")
    .then((response) => response.json())
    .then((spec: { components: { schemas: Record<string, { enum?: string[] }> } }) => ({
      permissions: spec.components.schemas.Permission?.enum ?? [],
      statuses: spec.components.schemas.JobStatus?.enum ?? [],
      jobTypes: spec.components.schemas.JobType?.enum ?? [],
      webhookEventTypes: spec.components.schemas.WebhookEventType?.enum ?? [],
    }));
  return loaded;
}
