import { renameSync, rmSync } from "node:fs";

/**
 * Replaces `target` with the directory `staging` built beside it, by two renames, so a process reading
 * `target` meanwhile sees the old tree or the new one, never half of each. Used by server/build.mjs (dist)
 * and scripts/build-site.mjs (public).
 * @example swapDir(mkdtempSync(`${dist}.staging-`), dist);
 */
export function swapDir(staging, target) {
  const old = `${target}.old-${process.pid}`;
  try {
    renameSync(target, old);
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  renameSync(staging, target);
  rmSync(old, { recursive: true, force: true });
}
