import { ArchiveError } from "./archive-error.js";
import type { ArchiveLimits } from "./limits.js";
import { checkContentType, FRAMING_BYTES, nameProblem, PARTS_HINT, tooLarge } from "./upload-rules.js";
import type { StagedUpload, WorkspaceFiles } from "./workspace-files.js";

/** An upload held in memory: the archive's bytes. */
export interface MemoryUpload extends StagedUpload {
  archive: Uint8Array;
}

/** Workspace files kept in memory: each workspace's uploaded archive, as uploaded. */
export interface MemoryWorkspaceFiles extends WorkspaceFiles<MemoryUpload> {
  /** The `.tar.gz` workspace `id` was last given, or null when it has none. */
  archiveOf(id: string): Uint8Array | null;
}

/**
 * Runtime-neutral workspace files for `@knify/sdk/testing` and the core behind msw: an upload is read with the
 * web `FormData` parser and kept as bytes, never unpacked — so `file_count` is 0 and `size_bytes` the
 * archive's size. It refuses what the server refuses before unpacking: another media type (415), an archive
 * over `maxCompressedBytes` (413), unknown, repeated or missing parts, a bad `name`, and what is not gzip at
 * all (400 `invalid_archive`, RFC 1952 magic bytes 1f 8b).
 * @example workspaceHandlers({ …, files: memoryWorkspaceFiles(limits, config.uploadTimeoutMs) })
 */
export function memoryWorkspaceFiles(limits: ArchiveLimits, timeoutMs: number): MemoryWorkspaceFiles {
  const archives = new Map<string, Uint8Array>();
  return {
    async receive(request, requireName) {
      const contentType = request.headers["content-type"];
      checkContentType(contentType);
      const body = await request.body.read(limits.maxCompressedBytes + FRAMING_BYTES, timeoutMs);
      const form = await new Response(body, { headers: { "content-type": contentType ?? "" } })
        .formData()
        .catch((error: unknown) => {
          throw new ArchiveError("validation_failed", `the multipart body is malformed: ${String(error)}`);
        });
      const refuse = (message: string) => new ArchiveError("validation_failed", message);
      for (const part of new Set(form.keys())) {
        if (part !== "workspace" && part !== "name")
          throw refuse(`unknown part ${JSON.stringify(part)}: ${PARTS_HINT}`);
        if (form.getAll(part).length > 1) throw refuse(`more than one \`${part}\` part: ${PARTS_HINT}`);
      }
      const file = form.get("workspace");
      if (file === null) throw refuse(`the \`workspace\` part is missing: ${PARTS_HINT}`);
      if (typeof file === "string") {
        throw refuse("part `workspace` must be a file part (with a filename), e.g. `curl -F workspace=@ws.tar.gz`");
      }
      const name = form.get("name");
      if (name !== null && typeof name !== "string") throw refuse("part `name` must be a text field, not a file");
      if (name === null && requireName) throw refuse(`the \`name\` part is missing: ${PARTS_HINT}`);
      const problem = name === null ? null : nameProblem(name);
      if (problem !== null) throw refuse(problem);
      if (file.size > limits.maxCompressedBytes) throw tooLarge(limits.maxCompressedBytes);
      const archive = new Uint8Array(await file.arrayBuffer());
      return { name: name ?? undefined, archive, archiveBytes: archive.byteLength, cleanup: async () => undefined };
    },
    async replace(id, upload, _caps, check) {
      if (upload.archive[0] !== 0x1f || upload.archive[1] !== 0x8b) {
        throw new ArchiveError(
          "invalid_archive",
          "the workspace part is not a gzip archive: make it with `tar -czf workspace.tar.gz -C my-dir .`",
        );
      }
      const counts = { fileCount: 0, sizeBytes: upload.archiveBytes };
      await check(counts);
      archives.set(id, upload.archive);
      return counts;
    },
    async remove(id) {
      archives.delete(id);
    },
    archiveOf: (id) => archives.get(id) ?? null,
  };
}
