import { createReadStream } from "node:fs";
import { mkdir, readdir, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { ArchiveError } from "./archive-error.js";
import { translateStreamError } from "./extract-errors.js";
import { Extraction, type ExtractResult } from "./extraction.js";
import { type ArchiveLimits, resolveArchiveLimits } from "./limits.js";

export type { ExtractResult };

/** Where an archive comes from: a stream, the whole archive in memory, or a file path. */
export type ArchiveSource = NodeJS.ReadableStream | Buffer | string;

/**
 * Extracts a `.tar.gz` into `destDir`, which must be empty or absent, refusing anything but regular files and
 * directories. Every target path is built here from the entry's checked path segments (never from node-tar's
 * unpacker), and only this run's own files and directories exist below `destDir`, so nothing can land outside
 * it. Files get mode 0644, or 0755 when the archive marks them executable; directories 0755; never setuid.
 *
 * On an `ArchiveError` (400/413) or any other error, `destDir` may hold a partial tree: extract into the temp
 * dir of {@link replaceDirectoryAtomically} so that a refusal leaves nothing behind. The source is streamed;
 * limits are enforced while reading, so a gzip bomb stops at the cap, not after being written out. The
 * compression ratio is measured against the archive's whole size when it is known (a file or a buffer), else
 * against the compressed bytes read so far.
 *
 * @example
 * const { fileCount, sizeBytes } = await extractArchive("/tmp/upload.tar.gz", tmpDir, { maxEntries: 100 });
 */
export async function extractArchive(
  source: ArchiveSource,
  destDir: string,
  limits: Partial<ArchiveLimits> = {},
): Promise<ExtractResult> {
  const caps = resolveArchiveLimits(limits);
  const root = resolve(destDir);
  await prepareEmptyDir(root);
  const compressedSize = await knownSize(source);
  const byteCap = new ByteCap(caps.maxCompressedBytes);
  const extraction = new Extraction(root, caps, () => compressedSize ?? byteCap.seen);
  try {
    await pipeline(toReadable(source), byteCap, createGunzip(), (tar: AsyncIterable<Buffer>) =>
      extraction.consume(tar),
    );
  } catch (error) {
    // When the extraction refuses an entry, pipeline() may report the teardown it caused (an AbortError)
    // instead of the refusal, so the refusal wins.
    const reasons = [error, extraction.failure].map(translateStreamError);
    throw reasons.find((reason) => reason instanceof ArchiveError) ?? reasons[0];
  }
  return extraction.result();
}

async function prepareEmptyDir(root: string): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o755 });
  const present = await readdir(root);
  if (present.length > 0) {
    // Existing entries (a symlink above all) could redirect writes, so only a fresh directory is safe.
    throw new Error(`extractArchive needs an empty destination, but ${root} holds ${present.length} entries`);
  }
}

async function knownSize(source: ArchiveSource): Promise<number | undefined> {
  if (typeof source === "string") return (await stat(source)).size;
  if (Buffer.isBuffer(source)) return source.length;
  return undefined;
}

function toReadable(source: ArchiveSource): NodeJS.ReadableStream {
  if (typeof source === "string") return createReadStream(source);
  if (Buffer.isBuffer(source)) return Readable.from([source], { objectMode: false });
  return source;
}

/** Counts the compressed bytes and stops the stream past the cap (413). */
class ByteCap extends Transform {
  #seen = 0;
  constructor(private readonly cap: number) {
    super();
  }
  /** Compressed bytes passed on so far. */
  get seen(): number {
    return this.#seen;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.cap) {
      callback(
        new ArchiveError("payload_too_large", `the archive is over the limit of ${this.cap} compressed bytes`, {
          limit: "maxCompressedBytes",
        }),
      );
      return;
    }
    callback(null, chunk);
  }
}
