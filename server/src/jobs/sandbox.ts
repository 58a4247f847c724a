import { cp, mkdir, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Creates a job's sandbox directory: a copy of its workspace's files when there are any, else empty.
 * A copy (not a link) so that what one job's agent does never leaks into the workspace or another job.
 */
export async function provisionSandbox(path: string, filesDir: string | null): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  if (filesDir !== null && (await isDirectory(filesDir))) {
    await cp(filesDir, path, { recursive: true, verbatimSymlinks: true, errorOnExist: false, force: true });
  } else {
    await mkdir(path, { recursive: true });
  }
}

/** Deletes a sandbox directory; a missing one is fine (cleanup is idempotent). */
export async function removeSandbox(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 3 });
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
