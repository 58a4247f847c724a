import { lchown, lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

/**
 * Gives `root` and everything under it to `uid:gid`, so the jail's unprivileged uid can write its sandbox.
 * Never follows a symlink: a link planted in a workspace (say to the server's secret.key) is re-owned itself, not its
 * target. Entries already owned are left alone, so a sandbox the same uid used last turn costs one lstat per entry.
 */
export async function chownTree(root: string, uid: number, gid: number): Promise<void> {
  const stat = await lstat(root);
  if (stat.uid !== uid || stat.gid !== gid) await lchown(root, uid, gid);
  if (!stat.isDirectory()) return;
  for (const entry of await readdir(root, { withFileTypes: true })) {
    // A Dirent of a symlink is never isDirectory(), so the walk does not descend through links.
    await chownTree(join(root, entry.name), uid, gid);
  }
}
