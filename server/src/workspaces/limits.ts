import { envInteger } from "../settings.js";

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
  /**
   * Decompressed (tar) bytes per compressed byte (413 when over; issue 15: a 509 KB upload expanded to
   * 500 MiB). Archives that decompress to at most {@link RATIO_FREE_BYTES} are never refused for their ratio.
   */
  maxCompressionRatio: number;
}

/** Small archives compress far beyond any sane ratio (a one-file tar is 10 KiB of mostly zeros). */
export const RATIO_FREE_BYTES = 1024 * 1024;

const MiB = 1024 * 1024;

/**
 * The caps the spec states: "archive 100 MiB compressed, 512 MiB extracted, 20000 entries, paths of 1024 bytes,
 * at most 100 bytes decompressed per compressed byte".
 */
export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxCompressedBytes: 100 * MiB,
  maxTotalBytes: 512 * MiB,
  maxEntries: 20_000,
  maxPathBytes: 1024,
  maxCompressionRatio: 100,
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

/** The settings this module reads from `deps.env`, each overriding one of the spec's default caps. */
const LIMIT_SETTINGS = {
  KNIFY_WORKSPACE_MAX_BYTES: "maxCompressedBytes",
  KNIFY_WORKSPACE_MAX_EXTRACTED_BYTES: "maxTotalBytes",
  KNIFY_WORKSPACE_MAX_ENTRIES: "maxEntries",
  KNIFY_WORKSPACE_MAX_COMPRESSION_RATIO: "maxCompressionRatio",
} as const satisfies Record<string, keyof ArchiveLimits>;

/** The archive caps: the spec's defaults, lowered or raised by the KNIFY_WORKSPACE_* settings. */
export function readArchiveLimits(env: NodeJS.ProcessEnv): ArchiveLimits {
  const limits: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS };
  for (const [name, field] of Object.entries(LIMIT_SETTINGS)) {
    limits[field] = envInteger(env, name, limits[field], 1, Number.MAX_SAFE_INTEGER);
  }
  return limits;
}
