import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

// Swaps of the same directory run one after another in this process; concurrent renames of one path would
// otherwise move each other's trees aside.
const swapLocks = new Map<string, Promise<unknown>>();

/**
 * Builds a new tree in a temp directory beside `finalDir` (so on the same filesystem), then moves it into
 * place with renames. Readers never see a half-built tree: `finalDir` is the whole old tree, then (for the
 * moment between two renames; Node has no `renameat2(RENAME_EXCHANGE)`) absent, then the whole new tree.
 * If `build` throws, the temp dir is removed and `finalDir` is left untouched; the error is rethrown.
 * Works both for a first upload (no `finalDir` yet) and for a replacement.
 *
 * @example
 * const stats = await replaceDirectoryAtomically(workspaceDir, (tmp) => extractArchive(archivePath, tmp));
 */
export async function replaceDirectoryAtomically<T>(
  finalDir: string,
  build: (tmpDir: string) => Promise<T>,
): Promise<T> {
  const target = resolve(finalDir);
  const parent = dirname(target);
  const name = basename(target);
  await mkdir(parent, { recursive: true });
  const tmpDir = await mkdtemp(join(parent, `.${name}.new-`));
  let result: T;
  let oldDir: string | undefined;
  try {
    result = await build(tmpDir);
    const aside = join(parent, `.${name}.old-${randomBytes(6).toString("hex")}`);
    oldDir = await withLock(target, () => swapIn(tmpDir, target, aside));
  } catch (error) {
    await rm(tmpDir, { recursive: true, force: true });
    throw error;
  }
  // The swap is done; failing to delete the old tree must not turn it into a failed upload.
  if (oldDir !== undefined) await rm(oldDir, { recursive: true, force: true }).catch(() => undefined);
  return result;
}

/** Moves `target` aside (if it exists) and `tmpDir` into its place; returns where the old tree went. */
async function swapIn(tmpDir: string, target: string, oldDir: string): Promise<string | undefined> {
  let movedOld = false;
  try {
    await rename(target, oldDir);
    movedOld = true;
  } catch (error) {
    // No tree yet: this is a first upload.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  try {
    await rename(tmpDir, target);
  } catch (error) {
    if (movedOld) await rename(oldDir, target); // put the old tree back before reporting
    throw error;
  }
  return movedOld ? oldDir : undefined;
}

async function withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = swapLocks.get(key) ?? Promise.resolve();
  const run = previous.then(task, task);
  const tail = run.catch(() => undefined);
  swapLocks.set(key, tail);
  try {
    return await run;
  } finally {
    if (swapLocks.get(key) === tail) swapLocks.delete(key);
  }
}
