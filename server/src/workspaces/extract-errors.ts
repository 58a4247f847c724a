import { ArchiveError, quoteEntry } from "./archive-error.js";

// Turns the errors of the filesystem, node-tar and zlib into ArchiveErrors that say what was wrong with the upload.

// Filesystem errors an archive can provoke by itself (a name too long for the filesystem, a clash between
// entries); anything else (ENOSPC, EACCES) is the server's problem and stays a plain error.
const ARCHIVE_FS_ERRORS = new Set(["ENAMETOOLONG", "EEXIST", "ENOTDIR", "EISDIR", "ELOOP", "EILSEQ"]);

export function translateFsError(error: unknown, raw: string): Error {
  if (error instanceof ArchiveError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && ARCHIVE_FS_ERRORS.has(code)) {
    return new ArchiveError("invalid_archive", `entry ${quoteEntry(raw)} cannot be written (${code})`, {
      entry: raw,
      cause: error,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

interface TarError extends Error {
  tarCode?: string;
  header?: { path?: string };
  entry?: { path?: string };
}

export function translateTarError(error: Error): Error {
  const tarError = error as TarError;
  if (!tarError.tarCode) return error;
  const where = tarError.entry?.path ?? tarError.header?.path;
  const message = error.message.replace(/^TAR_[A-Z_]+: /, "");
  const at = where ? ` at entry ${quoteEntry(where)}` : "";
  const truncated = /^Truncated input \((.*)\)$/.exec(message);
  return new ArchiveError(
    "invalid_archive",
    truncated ? `the archive is truncated${at} (${truncated[1]})` : `the archive is corrupt${at}: ${message}`,
    where === undefined ? { cause: error } : { entry: where, cause: error },
  );
}

/** Gzip errors become 400s that say what was wrong with the upload. */
export function translateStreamError(error: unknown): unknown {
  if (error instanceof ArchiveError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "Z_BUF_ERROR") {
    return new ArchiveError("invalid_archive", "the archive is truncated (the gzip stream ends early)", {
      cause: error,
    });
  }
  if (typeof code === "string" && code.startsWith("Z_")) {
    return new ArchiveError(
      "invalid_archive",
      `the archive is not a valid gzip stream (${(error as Error).message}); send a .tar.gz made by \`tar -czf\``,
      { cause: error },
    );
  }
  return error;
}
