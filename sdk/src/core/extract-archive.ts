import { KnifyError } from "./knify-error.js";

/**
 * Unpacks a `.tar.gz` stream into `dir` (made if missing), the way `tar -xzf - -C dir` would. `tar`,
 * `node:fs` and `node:stream` load here, lazily, so importing the SDK needs none of them. tar refuses
 * absolute paths and `..`, and never writes through a link it extracted, so nothing lands outside `dir`.
 */
export async function extractArchive(archive: ReadableStream<Uint8Array>, dir: string): Promise<void> {
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
