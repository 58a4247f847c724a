import type { ResponseStream } from "../http/request.js";
import { copiesWorkspace } from "./rules.js";
import type { SandboxFiles } from "./sandbox-files.js";

/**
 * Runtime-neutral sandboxes for `@knify/sdk/testing` and the core behind msw: a sandbox is the `.tar.gz` it
 * was made from — its workspace's upload when the job copies its workspace (`archiveOf`, e.g.
 * `memoryWorkspaceFiles().archiveOf`), else an empty archive. Nothing runs code in it (the simulated runner
 * only), so it never changes: `changes` is always empty.
 * @example jobHandlers({ …, sandboxes: memorySandboxFiles((id) => files.archiveOf(id)) })
 */
export function memorySandboxFiles(archiveOf: (workspaceId: string) => Uint8Array | null): SandboxFiles {
  const sandboxes = new Map<string, Uint8Array | null>();
  return {
    path: (sandboxId) => `/sandboxes/${sandboxId}`,
    async provision(sandboxId, job, fresh) {
      if (!fresh && sandboxes.has(sandboxId)) return;
      const source = fresh && copiesWorkspace(job) && job.workspaceId ? archiveOf(job.workspaceId) : null;
      sandboxes.set(sandboxId, source);
    },
    measure: async (sandboxId) => sandboxes.get(sandboxId)?.byteLength ?? 0,
    async remove(sandboxId) {
      sandboxes.delete(sandboxId);
    },
    archive: async (sandboxId) => {
      const bytes = sandboxId === null ? null : (sandboxes.get(sandboxId) ?? null);
      return bytes === null ? emptyArchive() : new Blob([bytes]).stream();
    },
    changes: async () => ({ changes: [], truncated: false }),
  };
}

/** A `.tar.gz` with no entries: the two 512-byte zero blocks that end a tar archive, gzipped. */
function emptyArchive(): ResponseStream {
  return new Blob([new Uint8Array(1024)]).stream().pipeThrough(new CompressionStream("gzip"));
}
