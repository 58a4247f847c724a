import type { ArchiveLimits } from "./limits.js";

/** The machine codes an upload can fail with, each a code of the spec's `ErrorCode` set. */
export type ArchiveErrorCode = "invalid_archive" | "payload_too_large" | "validation_failed" | "unsupported_media_type";

/** HTTP status of each code, as the spec's `ErrorCode` table gives it. */
export const ARCHIVE_ERROR_STATUS = {
  invalid_archive: 400,
  payload_too_large: 413,
  validation_failed: 400,
  unsupported_media_type: 415,
} as const satisfies Record<ArchiveErrorCode, number>;

/** Options of an {@link ArchiveError}. */
export interface ArchiveErrorOptions {
  /** The archive entry (or multipart part) the error is about, as the client wrote it. */
  entry?: string;
  /** The cap that refused the archive, for a `payload_too_large` one. */
  limit?: keyof ArchiveLimits;
  cause?: unknown;
}

/**
 * A refused upload: the client's archive or multipart body is at fault, so the message says what was wrong and
 * with which entry; the route renders it as problem+json with `code` and `status`.
 *
 * @example
 * throw new ArchiveError("invalid_archive", `entry ${quoteEntry("../x")} escapes the workspace ("..")`, { entry: "../x" });
 */
export class ArchiveError extends Error {
  override readonly name = "ArchiveError";
  readonly code: ArchiveErrorCode;
  readonly status: (typeof ARCHIVE_ERROR_STATUS)[ArchiveErrorCode];
  readonly entry: string | undefined;
  readonly limit: keyof ArchiveLimits | undefined;

  constructor(code: ArchiveErrorCode, message: string, options: ArchiveErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ARCHIVE_ERROR_STATUS[code];
    this.entry = options.entry;
    this.limit = options.limit;
  }
}

/** True for an {@link ArchiveError}: a refusal the route renders with its own `code` and `status`. */
export function isArchiveError(error: unknown): error is ArchiveError {
  return error instanceof ArchiveError;
}

const MAX_QUOTED_CHARS = 200;

/**
 * An entry path quoted for a message: JSON quoting makes control characters and NULs visible, and a hostile
 * 100 KiB path is cut so that it cannot flood logs or the response.
 */
export function quoteEntry(path: string): string {
  const shown = path.length > MAX_QUOTED_CHARS ? `${path.slice(0, MAX_QUOTED_CHARS)}…` : path;
  return JSON.stringify(shown);
}
