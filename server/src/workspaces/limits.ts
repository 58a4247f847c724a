/** Caps applied to an uploaded workspace archive (spec: `POST /workspaces`). */
export interface ArchiveLimits {
  /** Bytes of the `.tar.gz` as uploaded (413 when over). */
  maxCompressedBytes: number;
  /** Sum of the sizes of the regular files it holds once extracted (413 when over). */
  maxTotalBytes: number;
  /** Entries of any kind: files and directories (413 when over). */
  maxEntries: number;
  /** UTF-8 bytes of one entry path as written in the archive (400 when over). */
  maxPathBytes: number;
}

const MiB = 1024 * 1024;

/**
 * The caps the spec states: "archive 100 MiB compressed, 512 MiB extracted, 20000 entries, paths of 1024 bytes".
 */
export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxCompressedBytes: 100 * MiB,
  maxTotalBytes: 512 * MiB,
  maxEntries: 20_000,
  maxPathBytes: 1024,
});

/**
 * Fills the caps a caller left out with the defaults, and refuses nonsense (a cap that is not a positive
 * integer is a programming error, so this throws a plain `RangeError`, not an `ArchiveError`).
 *
 * @example
 * resolveArchiveLimits({ maxEntries: 10 }).maxTotalBytes; // 536870912
 */
export function resolveArchiveLimits(overrides: Partial<ArchiveLimits> = {}): ArchiveLimits {
  const limits: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS };
  for (const key of Object.keys(limits) as (keyof ArchiveLimits)[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`archive limit ${key} must be a positive integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}
