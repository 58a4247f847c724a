import { envInteger } from "../settings.js";
import { DEFAULT_DISK_QUOTA_BYTES } from "./quota.js";

/** Reads `KNIFY_WORKSPACE_DISK_QUOTA_BYTES`; throws a `ConfigError` naming it when invalid. */
export function readDiskQuota(env: NodeJS.ProcessEnv): number {
  return envInteger(env, "KNIFY_WORKSPACE_DISK_QUOTA_BYTES", DEFAULT_DISK_QUOTA_BYTES, 1, Number.MAX_SAFE_INTEGER);
}
