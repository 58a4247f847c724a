import { cp, lstat, mkdir, opendir, rename, rm, stat } from "node:fs/promises";
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

/** How many sandbox names the start-up sweep asks the store about at once: its memory is bounded by this. */
export const ORPHAN_SWEEP_BATCH = 10_000;

const SANDBOX_NAME = /^sbx_[A-Za-z0-9]+$/;
const PARTIAL_NAME = /^\.sbx_[A-Za-z0-9]+\.partial$/;

/**
 * Removes what a crash left under `sandboxesDir` (issue 15: a crash mid-copy left 825 MB): `.partial` copies,
 * and sandbox directories no job refers to any more (`liveAmong`: which of the names it is given are the
 * sandbox ids of jobs not cleaned up). Only entries last changed before `olderThan` (this process's start) are
 * touched, so that a copy another replica on the same data dir is making right now survives. The directory is
 * read as a stream and the store asked about at most `batchSize` names at a time, so memory stays bounded
 * however many jobs the store holds (issue 11) or directories there are. Returns the names it removed.
 */
export async function sweepOrphanSandboxes(
  sandboxesDir: string,
  liveAmong: (sandboxIds: readonly string[]) => Promise<ReadonlySet<string>>,
  olderThan: number,
  batchSize = ORPHAN_SWEEP_BATCH,
): Promise<string[]> {
  const removed: string[] = [];
  const remove = async (name: string) => {
    await removeSandbox(join(sandboxesDir, name));
    removed.push(name);
  };
  let candidates: string[] = [];
  const settle = async () => {
    const asked = candidates;
    candidates = [];
    const live = await liveAmong(asked);
    for (const name of asked) if (!live.has(name)) await remove(name);
  };
  const dir = await opendir(sandboxesDir).catch(() => null);
  if (dir === null) return removed;
  for await (const entry of dir) {
    const { name } = entry;
    const partial = PARTIAL_NAME.test(name);
    if (!partial && !SANDBOX_NAME.test(name)) continue;
    const info = await lstat(join(sandboxesDir, name)).catch(() => null);
    if (!info || info.mtimeMs >= olderThan) continue;
    if (partial) await remove(name);
    else if (candidates.push(name) >= batchSize) await settle();
  }
  if (candidates.length > 0) await settle();
  return removed;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
