import { PATTERNS } from "../generated/constants.js";
import { ArchiveError } from "./archive-error.js";

// The rules of a workspace upload that do not depend on how the body is read: the disk parser
// (multipart.ts, busboy) and the in-memory one (memory-workspace-files.ts, web FormData) share them.

/** Spec `WorkspaceName`: 1–64 letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
const NAME_PATTERN = new RegExp(PATTERNS.WorkspaceName, "u");
export const MAX_NAME_BYTES = 64;
// Multipart framing allowed beyond the archive: boundaries, part headers (busboy caps each block at 16 KiB,
// and at most two parts are read) and the name field.
export const FRAMING_BYTES = 64 * 1024;
export const PARTS_HINT = "send one file part `workspace` (the .tar.gz) and at most one field `name`";

/** Why a `name` part is refused, or null when it is a valid workspace name. */
export function nameProblem(value: string, truncated = false): string | null {
  if (truncated || new TextEncoder().encode(value).byteLength > MAX_NAME_BYTES) {
    return `part \`name\` is longer than ${MAX_NAME_BYTES} bytes`;
  }
  if (!NAME_PATTERN.test(value)) {
    return `name ${JSON.stringify(value)} is not allowed: use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`;
  }
  return null;
}

/** Refuses a body that is not `multipart/form-data` (415). */
export function checkContentType(header: string | undefined): void {
  const mediaType = header?.split(";", 1)[0]?.trim().toLowerCase();
  if (mediaType !== "multipart/form-data") {
    throw new ArchiveError(
      "unsupported_media_type",
      `send the body as multipart/form-data (got ${header ? JSON.stringify(header) : "no Content-Type"}): ${PARTS_HINT}`,
    );
  }
}

/** The 413 of an archive over `maxCompressedBytes`. */
export function tooLarge(cap: number): ArchiveError {
  return new ArchiveError("payload_too_large", `the workspace archive is over the limit of ${cap} bytes`);
}
