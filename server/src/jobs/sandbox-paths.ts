import { join } from "node:path";

/** What a sandbox held when it was provisioned (for `changes`): `<dataDir>/sandbox-bases/<sandbox_id>.json`. */
export function sandboxBaseFile(dataDir: string, sandboxId: string): string {
  return join(dataDir, "sandbox-bases", `${sandboxId}.json`);
}

/** Where a job's sandbox lives: `<dataDir>/sandboxes/<sandbox_id>`. */
export function sandboxDir(dataDir: string, sandboxId: string): string {
  return join(sandboxesDir(dataDir), sandboxId);
}

/** The directory that holds every sandbox. */
export function sandboxesDir(dataDir: string): string {
  return join(dataDir, "sandboxes");
}
