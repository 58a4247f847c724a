import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { components } from "../generated/schema.js";

type JobChange = components["schemas"]["JobChange"];

/** The most changes `GET /jobs/{job_id}/changes` lists (the spec's `maxItems`); more set `X-Knify-Truncated`. */
export const MAX_CHANGES = 10_000;

/** One regular file or symbolic link of a sandbox as it was provisioned. */
interface BaseEntry {
  size: number;
  /** The copy's mtime: equal size and mtime mean unchanged without reading the file (rsync's quick check). */
  mtimeMs: number;
  /** sha256 of the contents, or of the link target for a link. */
  sha256: string;
  link?: true;
}

/**
 * Records what a fresh sandbox holds, so that `changes` can compare against the files the job started from
 * even after its workspace is replaced. Written beside the sandbox (never inside: the agent must not edit it),
 * atomically, so a crash leaves either no record or a whole one.
 */
export async function recordSandboxBase(sandboxPath: string, baseFile: string): Promise<void> {
  const base: Record<string, BaseEntry> = {};
  for await (const entry of walk(sandboxPath)) base[entry.path] = await describe(entry);
  await mkdir(dirname(baseFile), { recursive: true });
  const tmp = `${baseFile}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(base));
  await rename(tmp, baseFile);
}

/** Deletes a sandbox's base record (with the sandbox, at cleanup); a missing one is fine. */
export async function removeSandboxBase(baseFile: string): Promise<void> {
  await rm(baseFile, { force: true });
}

/**
 * The sandbox's regular files and links against its base record, sorted by path; at most `max`, and
 * `truncated` when there were more. A sandbox without a record (made before records existed) counts every
 * file as added.
 */
export async function sandboxChanges(
  sandboxPath: string,
  baseFile: string,
  max = MAX_CHANGES,
): Promise<{ changes: JobChange[]; truncated: boolean }> {
  const base = await readBase(baseFile);
  const changes: JobChange[] = [];
  const seen = new Set<string>();
  for await (const entry of walk(sandboxPath)) {
    seen.add(entry.path);
    const before = base.get(entry.path);
    if (!before) {
      changes.push({ path: entry.path, change: "added", size: entry.size });
    } else if (await differs(entry, before)) {
      changes.push({ path: entry.path, change: "modified", size: entry.size });
    }
  }
  for (const [path, before] of base) {
    if (!seen.has(path)) changes.push({ path, change: "deleted", size: before.size });
  }
  changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { changes: changes.slice(0, max), truncated: changes.length > max };
}

interface WalkEntry {
  path: string;
  absolute: string;
  size: number;
  mtimeMs: number;
  link: boolean;
}

/** Regular files and links under `root`, `/`-separated and relative; links are reported, never followed. */
async function* walk(root: string, prefix = ""): AsyncGenerator<WalkEntry> {
  const names = await readdir(join(root, prefix)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [] as string[];
    throw error;
  });
  for (const name of names) {
    const path = prefix === "" ? name : `${prefix}/${name}`;
    const absolute = join(root, path);
    const stat = await lstat(absolute).catch(() => null);
    if (!stat) continue;
    if (stat.isDirectory()) yield* walk(root, path);
    else if (stat.isFile() || stat.isSymbolicLink())
      yield { path, absolute, size: stat.size, mtimeMs: stat.mtimeMs, link: stat.isSymbolicLink() };
  }
}

async function describe(entry: WalkEntry): Promise<BaseEntry> {
  return {
    size: entry.size,
    mtimeMs: entry.mtimeMs,
    sha256: await digest(entry),
    ...(entry.link ? { link: true as const } : {}),
  };
}

async function differs(entry: WalkEntry, before: BaseEntry): Promise<boolean> {
  if (entry.link !== (before.link === true) || entry.size !== before.size) return true;
  if (entry.mtimeMs === before.mtimeMs) return false;
  return (await digest(entry)) !== before.sha256;
}

async function digest(entry: WalkEntry): Promise<string> {
  const hash = createHash("sha256");
  if (entry.link) return hash.update(await readlink(entry.absolute)).digest("hex");
  for await (const chunk of createReadStream(entry.absolute)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function readBase(baseFile: string): Promise<Map<string, BaseEntry>> {
  try {
    return new Map(Object.entries(JSON.parse(await readFile(baseFile, "utf8")) as Record<string, BaseEntry>));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw error;
  }
}
