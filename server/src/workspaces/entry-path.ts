import type { ArchiveError } from "./archive-error.js";
import type { ArchiveLimits } from "./limits.js";

export type Refuse = (
  code: "invalid_archive" | "payload_too_large",
  why: string,
  limit?: keyof ArchiveLimits,
) => ArchiveError;

/**
 * Splits an entry path into the segments it is written to, refusing anything that could leave the root or
 * that a filesystem would read differently. Empty and "." segments (`./a`, `my-dir/`) are dropped; the tree is
 * otherwise kept as-is (a single top-level `my-dir/` stays).
 */
export function checkEntryPath(raw: string, maxPathBytes: number, refuse: Refuse): string[] {
  if (raw.includes("\0")) throw refuse("invalid_archive", "contains a NUL byte");
  if (raw.includes("\\")) throw refuse("invalid_archive", 'contains a backslash; use "/" between path segments');
  const bytes = Buffer.byteLength(raw);
  if (bytes > maxPathBytes) throw refuse("invalid_archive", `is ${bytes} bytes long; the limit is ${maxPathBytes}`);
  if (raw.startsWith("/"))
    throw refuse("invalid_archive", "is an absolute path; paths must be relative to the workspace");
  const parts = raw.split("/");
  if (parts.includes("..")) throw refuse("invalid_archive", 'escapes the workspace ("..")');
  return parts.filter((part) => part !== "" && part !== ".");
}

/**
 * The path or link target of a pax record or GNU long-name block, when it holds a NUL byte. node-tar cuts such a
 * value at the NUL and would extract `a\0b` as `a`; the spec wants it refused, so the raw record is read here.
 * The block's type is not known here, and a GNU long name may look like pax records ("12 monkeys"), so a value
 * is also read as a GNU name: a NUL before its terminating NULs is refused either way (issue 17).
 */
export function pathWithNul(meta: string): string | undefined {
  const paxPath = /^\d+ /.test(meta) ? paxPathWithNul(meta) : undefined;
  if (paxPath !== undefined) return paxPath;
  // GNU long name/link: the value and its terminating NULs.
  const value = meta.replace(/\0+$/, "");
  return value.includes("\0") ? value : undefined;
}

/** pax: records of "<length> <key>=<value>\n", where length counts the bytes of the whole record. */
function paxPathWithNul(meta: string): string | undefined {
  const bytes = Buffer.from(meta, "utf8");
  let position = 0;
  while (position < bytes.length) {
    const space = bytes.indexOf(0x20, position);
    const length = Number(bytes.toString("latin1", position, space));
    if (space < 0 || !Number.isSafeInteger(length) || length <= space - position) return undefined;
    const record = bytes.toString("utf8", space + 1, position + length);
    const match = /^(path|linkpath)=([\s\S]*)\n$/.exec(record);
    if (match?.[2]?.includes("\0")) return match[2];
    position += length;
  }
  return undefined;
}
