import type { Stats } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Pack } from "tar";

/**
 * The sandbox as a `.tar.gz` stream: paths relative to it, regular files, directories and symbolic links
 * only. Links are stored as links and never followed (`follow` is off), so nothing outside the sandbox is
 * read; devices, FIFOs and sockets an agent may have made are left out (reading a FIFO would block).
 */
export async function packSandbox(sandboxPath: string | null): Promise<Readable> {
  const names = sandboxPath === null ? [] : (await readdir(sandboxPath)).sort();
  if (names.length === 0) return emptyArchive();
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

/**
 * No sandbox yet, or an empty one (a test key's simulated job): an archive holding only `./`. A tar with no
 * entry at all is end-of-archive blocks alone, which tar readers (node-tar included) refuse as "Unrecognized
 * archive format"; packed from an empty directory of its own, never from the process's cwd.
 */
async function emptyArchive(): Promise<Readable> {
  const dir = await mkdtemp(join(tmpdir(), "knify-empty-"));
  const pack = new Pack({ cwd: dir, gzip: true, portable: true, follow: false });
  pack.add(".");
  pack.end();
  const stream = Readable.from(pack);
  stream.once("close", () => void rm(dir, { recursive: true, force: true }));
  return stream;
}

function isArchivable(stat: Stats): boolean {
  return stat.isFile() || stat.isDirectory() || stat.isSymbolicLink();
}
