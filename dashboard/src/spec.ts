/** The spec this server serves; the dashboard reads enums from it instead of keeping its own copy. */
let loaded: Promise<{ permissions: string[]; statuses: string[]; jobTypes: string[] }> | undefined;

/** The permission, job status and job type names, from `/openapi.json` (fetched once per page load). */
export function specEnums(): Promise<{ permissions: string[]; statuses: string[]; jobTypes: string[] }> {
  loaded ??= fetch("/openapi.json")
    .then((response) => response.json())
    .then((spec: { components: { schemas: Record<string, { enum?: string[] }> } }) => ({
      permissions: spec.components.schemas.Permission?.enum ?? [],
      statuses: spec.components.schemas.JobStatus?.enum ?? [],
      jobTypes: spec.components.schemas.JobType?.enum ?? [],
    }));
  return loaded;
}
