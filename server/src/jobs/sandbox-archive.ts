import type { Stats } from "node:fs";
import { readdir } from "node:fs/promises";
import { Readable } from "node:stream";
import { Pack } from "tar";

/**
 * The sandbox as a `.tar.gz` stream: paths relative to it, regular files, directories and symbolic links
 * only. Links are stored as links and never followed (`follow` is off), so nothing outside the sandbox is
 * read; devices, FIFOs and sockets an agent may have made are left out (reading a FIFO would block).
 */
export async function packSandbox(sandboxPath: string | null): Promise<Readable> {
  // No sandbox yet (the first turn was never provisioned): an archive with no entries.
  const names = sandboxPath === null ? [] : (await readdir(sandboxPath)).sort();
  const pack = new Pack({
    cwd: sandboxPath ?? ".",
    gzip: true,
    portable: true,
    follow: false,
    // Packing from disk, the filter gets the lstat of each entry.
    filter: (_path, stat) => isArchivable(stat as Stats),
  });
  for (const name of names) pack.add(name);
  pack.end();
  return Readable.from(pack);
}

function isArchivable(stat: Stats): boolean {
  return stat.isFile() || stat.isDirectory() || stat.isSymbolicLink();
}
