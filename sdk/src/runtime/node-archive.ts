import type { KnifyError } from "../core/knify-error.js";

/** The SDK's error class, passed in by `createRuntime` (see `CreateRuntime`). */
type Errors = { KnifyError: typeof KnifyError };

// Node only: `tar`, `node:fs` and `node:stream` load lazily here, so importing the SDK needs none of them.

/**
 * Archives a directory the way `tar -czf - -C dir .` would, minus owner and time details (`portable`).
 */
export async function archiveDirectory(
  dir: string,
  filter: ((path: string) => boolean) | undefined,
  { KnifyError }: Errors,
): Promise<Blob> {
  const [{ create }, { readdir, stat }] = await Promise.all([import("tar"), import("node:fs/promises")]);
  const info = await stat(dir).catch((error: unknown) => {
    throw new KnifyError(`Cannot read the workspace directory ${dir}: ${(error as Error).message}`, { cause: error });
  });
  if (!info.isDirectory())
    throw new KnifyError(`${dir} is not a directory; pass a directory as path or a .tar.gz as data.`);
  const entries = (await readdir(dir)).filter((entry) => !filter || filter(entry)).sort();
  if (entries.length === 0)
    throw new KnifyError(`The workspace directory ${dir} is empty; there is nothing to upload.`);
  const pack = create(
    { gzip: true, portable: true, cwd: dir, ...(filter ? { filter: (path: string) => filter(path) } : {}) },
    entries,
  );
  const chunks: Uint8Array[] = [];
  for await (const chunk of pack) chunks.push(chunk as Uint8Array);
  return new Blob(chunks, { type: "application/gzip" });
}

/**
 * Unpacks a `.tar.gz` stream into `dir` (made if missing), the way `tar -xzf - -C dir` would. tar refuses
 * absolute paths and `..`, and never writes through a link it extracted, so nothing lands outside `dir`.
 */
export async function extractArchive(
  archive: ReadableStream<Uint8Array>,
  dir: string,
  { KnifyError }: Errors,
): Promise<void> {
  const [{ x }, { mkdir }, { Readable }, { pipeline }] = await Promise.all([
    import("tar"),
    import("node:fs/promises"),
    import("node:stream"),
    import("node:stream/promises"),
  ]);
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw new KnifyError(`Cannot create ${dir} for the archive: ${(error as Error).message}`, { cause: error });
  });
  // `Readable.fromWeb` wants the DOM type; the SDK's ReadableStream is the same object at runtime.
  const source = Readable.fromWeb(archive as Parameters<typeof Readable.fromWeb>[0]);
  // Not `strict`: tar's fixes (an absolute link target made relative) are warnings we accept, not failures.
  await pipeline(source, x({ cwd: dir }));
}
