import { cp, lstat, mkdir, opendir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Where a sandbox is built before it is renamed into place; the start-up sweep removes leftovers. */
function partialPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.partial`);
}

/**
 * Creates a job's sandbox directory: a copy of its workspace's files when there are any, else empty.
 * A copy (not a link) so that what one job's agent does never leaks into the workspace or another job.
 * The copy is made beside the sandbox and renamed into place, so a crash mid-copy leaves a `.partial`
 * directory that {@link sweepOrphanSandboxes} recognises, never a half-copied sandbox.
 */
export async function provisionSandbox(path: string, filesDir: string | null): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  if (filesDir !== null && (await isDirectory(filesDir))) {
    const partial = partialPath(path);
    try {
      await cp(filesDir, partial, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
      await rename(partial, path);
    } catch (error) {
      await removeSandbox(partial);
      throw error;
    }
  } else {
    await mkdir(path, { recursive: true });
  }
}

/** Deletes a sandbox directory; a missing one is fine (cleanup is idempotent). */
export async function removeSandbox(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 3 });
}

/** Bytes of the regular files below `path` (links are not followed); 0 when it does not exist. */
export async function measureSandbox(path: string): Promise<number> {
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of await opendir(dir)) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) total += (await lstat(full)).size;
    }
  };
  try {
    await walk(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return total;
}

/**
 * Removes what a crash left under `sandboxesDir` (issue 15: a crash mid-copy left 825 MB): `.partial` copies,
 * and sandbox directories no job refers to any more (`live`: the sandbox ids of jobs not cleaned up). Only
 * entries last changed before `olderThan` (this process's start) are touched, so that a copy another replica
 * on the same data dir is making right now survives. Returns the names it removed.
 */
export async function sweepOrphanSandboxes(
  sandboxesDir: string,
  live: ReadonlySet<string>,
  olderThan: number,
): Promise<string[]> {
  const names = await readdir(sandboxesDir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const orphan = /^\.sbx_[A-Za-z0-9]+\.partial$/.test(name) || (/^sbx_[A-Za-z0-9]+$/.test(name) && !live.has(name));
    if (!orphan) continue;
    const path = join(sandboxesDir, name);
    const info = await lstat(path).catch(() => null);
    if (!info || info.mtimeMs >= olderThan) continue;
    await removeSandbox(path);
    removed.push(name);
  }
  return removed;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
