import type { CoreRequest } from "../http/request.js";
import type { ArchiveLimits } from "./limits.js";

/** An upload read and set aside, not yet a workspace's files. */
export interface StagedUpload {
  /** The `name` part, checked against the spec's `WorkspaceName` pattern; undefined when not sent. */
  name: string | undefined;
  archiveBytes: number;
  /** Forgets the staged archive; safe to call more than once. */
  cleanup(): Promise<void>;
}

/** What an extraction wrote: the regular files of the final tree and the sum of their sizes. */
export interface FileCounts {
  fileCount: number;
  sizeBytes: number;
}

/**
 * What the workspace handlers do with files, behind one small interface so the handlers stay
 * runtime-neutral (issue 9): the server extracts to disk (`diskWorkspaceFiles`), the mock keeps counts in
 * memory. Refusals are `ArchiveError`s (the handlers turn them into problems).
 */
export interface WorkspaceFiles<U extends StagedUpload = StagedUpload> {
  /** Reads a `multipart/form-data` upload (`workspace` file part, optional `name` field) within the caps. */
  receive(request: Pick<CoreRequest, "headers" | "body">, requireName: boolean): Promise<U>;
  /**
   * Extracts `upload` as workspace `id`'s new files within `caps`; `check` sees what was extracted before it
   * replaces the old files (throw to keep them), then the new tree is swapped in at once.
   */
  replace(
    id: string,
    upload: U,
    caps: ArchiveLimits,
    check: (counts: FileCounts) => Promise<void>,
  ): Promise<FileCounts>;
  /** Removes workspace `id`'s files; a missing tree is fine. */
  remove(id: string): Promise<void>;
}
