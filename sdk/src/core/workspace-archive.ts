import { KnifyError } from "./knify-error.js";
import { loadRuntime } from "./load-runtime.js";

/** Workspace archive bytes: a `.tar.gz` as a Buffer/Uint8Array, ArrayBuffer, Blob or web ReadableStream. */
export type WorkspaceData = Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;

/** Where a workspace's files come from: a local directory (Node only; archived for you) or a ready `.tar.gz`. */
export type WorkspaceSource =
  | {
      /** A directory; its contents are archived with paths relative to it. */
      path: string;
      /** Return `false` for a path (relative to `path`, e.g. `node_modules`) to leave it out. */
      filter?: ((path: string) => boolean) | undefined;
      data?: undefined;
    }
  | {
      /** A `.tar.gz`, as `tar -czf workspace.tar.gz -C my-dir .` makes. */
      data: WorkspaceData;
      path?: undefined;
    };

/** The source as a gzip `Blob`, ready for the multipart `workspace` part. */
export async function workspaceArchive(source: WorkspaceSource): Promise<Blob> {
  if (source.data !== undefined) return toBlob(source.data);
  if (typeof source.path === "string") return (await loadRuntime()).archiveDirectory(source.path, source.filter);
  throw new KnifyError("A workspace needs either `path` (a directory) or `data` (a .tar.gz).");
}

async function toBlob(data: WorkspaceData): Promise<Blob> {
  const blob =
    data instanceof Blob
      ? data
      : data instanceof ReadableStream
        ? // Buffered: the transport may have to send the same bytes again on a retry.
          await new Response(data).blob()
        : new Blob([data instanceof ArrayBuffer ? new Uint8Array(data) : Uint8Array.from(data)]);
  return blob.type ? blob : new Blob([blob], { type: "application/gzip" });
}
