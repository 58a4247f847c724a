import { once } from "node:events";
import { constants } from "node:fs";
import { chmod, type FileHandle, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { Parser, type ReadEntry } from "tar";
import { ArchiveError, quoteEntry } from "./archive-error.js";
import { checkEntryPath, pathWithNul, type Refuse } from "./entry-path.js";
import { translateFsError, translateTarError } from "./extract-errors.js";
import { type ArchiveLimits, RATIO_FREE_BYTES } from "./limits.js";

/** What an extraction wrote: the regular files of the final tree and the sum of their sizes. */
export interface ExtractResult {
  fileCount: number;
  sizeBytes: number;
}

// Bytes of tar framing (headers, pax records, padding) allowed per entry on top of the file data, so that a
// stream of headers or padding cannot run for ever even though it holds no file bytes.
const FRAMING_BYTES_PER_ENTRY = 8 * 1024;
// pax/GNU long-name records between two entries, and over the whole archive: node-tar keeps them in memory
// (global `g` records for the whole run), so they are capped well below its 1 MiB per-record default.
const MAX_META_BYTES_PER_ENTRY = 256 * 1024;
const MAX_META_BYTES_TOTAL = 16 * 1024 * 1024;
// GNU tar pads the archive to its record size (10 KiB by default, `-b 2048` gives 1 MiB); more than that after
// the end-of-archive marker is not padding, and node-tar would buffer it all in memory.
const MAX_TRAILING_BYTES = 1024 * 1024;

const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);
const DEVICE_TYPES: Record<string, string> = {
  CharacterDevice: "a character device",
  BlockDevice: "a block device",
  FIFO: "a FIFO",
};

/**
 * One run of the tar parser over the decompressed stream, writing entries one at a time: every path is
 * checked and built here from its segments, anything but files and directories is refused, and the
 * limits (entries, bytes, compression ratio, metadata, trailing bytes) are enforced as the bytes arrive.
 */
export class Extraction {
  readonly #parser = new Parser({
    strict: true,
    brotli: false,
    zstd: false,
    maxMetaEntrySize: MAX_META_BYTES_PER_ENTRY,
  });
  readonly #files = new Map<string, number>();
  readonly #dirs = new Set<string>();
  #entries = 0;
  #declaredBytes = 0;
  #writtenBytes = 0;
  #tarBytes = 0;
  #trailingBytes = 0;
  #metaSinceEntry = 0;
  #metaTotal = 0;
  #sawEnd = false;
  #failure: Error | undefined;
  /** The first error of this run, if any. */
  get failure(): Error | undefined {
    return this.#failure;
  }
  // Entries are written strictly in order: each task waits for the one before it.
  #work: Promise<void> = Promise.resolve();
  // Waits that the first failure must wake (the parser's drain, an entry's next chunk).
  readonly #wakers = new Set<(error: Error) => void>();
  readonly #maxTarBytes: number;

  constructor(
    private readonly root: string,
    private readonly caps: ArchiveLimits,
    /** The compressed size the ratio is measured against. */
    private readonly compressedBytes: () => number,
  ) {
    this.#maxTarBytes = caps.maxTotalBytes + caps.maxEntries * FRAMING_BYTES_PER_ENTRY + MAX_TRAILING_BYTES;
    const parser = this.#parser;
    parser.on("entry", (entry: ReadEntry) => this.#onEntry(entry));
    parser.on("ignoredEntry", (entry: ReadEntry) => this.#onIgnored(entry));
    parser.on("meta", (meta: string) => this.#onMeta(meta));
    parser.on("eof", () => {
      this.#sawEnd = true;
    });
    parser.on("error", (error: Error) => this.#fail(translateTarError(error)));
  }

  /** Feeds the decompressed tar stream to the parser, honouring its backpressure, then waits for the writes. */
  async consume(tar: AsyncIterable<Buffer>): Promise<void> {
    try {
      for await (const chunk of tar) {
        this.#tarBytes += chunk.length;
        if (this.#tarBytes > this.#maxTarBytes) {
          throw new ArchiveError(
            "payload_too_large",
            `the archive expands to more than ${this.#maxTarBytes} bytes of tar data (limit ${this.caps.maxTotalBytes} bytes of files)`,
            { limit: "maxTotalBytes" },
          );
        }
        this.#checkRatio();
        if (this.#sawEnd) {
          this.#skipTrailing(chunk);
          continue;
        }
        this.#throwIfFailed();
        const flowing = this.#parser.write(chunk);
        this.#throwIfFailed();
        if (!flowing) await this.#unlessFailed(once(this.#parser, "drain"));
      }
      this.#throwIfFailed();
      this.#parser.end();
      await this.#work;
      this.#throwIfFailed();
      if (!this.#sawEnd) {
        throw new ArchiveError(
          "invalid_archive",
          "the archive is truncated: it ends without the end-of-archive marker",
        );
      }
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      // Wait until no file is open and no directory is being made, so the caller can remove the tree safely.
      await this.#work;
      throw this.#failure;
    }
  }

  result(): ExtractResult {
    let sizeBytes = 0;
    for (const size of this.#files.values()) sizeBytes += size;
    return { fileCount: this.#files.size, sizeBytes };
  }

  /** Refuses an archive that decompresses to more than `maxCompressionRatio` times its compressed size. */
  #checkRatio(): void {
    if (this.#tarBytes <= RATIO_FREE_BYTES) return;
    const ratio = this.caps.maxCompressionRatio;
    const compressed = this.compressedBytes();
    if (this.#tarBytes <= compressed * ratio) return;
    throw new ArchiveError(
      "payload_too_large",
      `the archive decompresses to more than ${ratio} times its size (over ${this.#tarBytes} bytes from ${compressed} compressed bytes), the limit that stops decompression bombs; leave out files of repetitive data (zeros, generated fills), or split the upload`,
      { limit: "maxCompressionRatio" },
    );
  }

  #skipTrailing(chunk: Buffer): void {
    this.#trailingBytes += chunk.length;
    if (this.#trailingBytes > MAX_TRAILING_BYTES) {
      throw new ArchiveError(
        "invalid_archive",
        `the archive goes on for more than ${MAX_TRAILING_BYTES} bytes after its end-of-archive marker`,
      );
    }
    if (chunk.some((byte) => byte !== 0)) {
      throw new ArchiveError("invalid_archive", "the archive holds data after its end-of-archive marker");
    }
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const wake of this.#wakers) wake(error);
    this.#wakers.clear();
    // Stop the parser at once: it would otherwise go on through the rest of the chunk it is reading.
    this.#parser.abort(error);
  }

  /**
   * Waits for `promise`, or rejects at the first failure. (Not `Promise.race` with one long-lived "aborted"
   * promise: every race leaves a reaction on it that keeps its result, here each chunk of data, alive.)
   */
  #unlessFailed<T>(promise: Promise<T>): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      this.#wakers.add(reject);
      promise.then(
        (value) => {
          this.#wakers.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.#wakers.delete(reject);
          reject(error);
        },
      );
    });
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }

  #onMeta(meta: string): void {
    const bytes = Buffer.byteLength(meta);
    this.#metaSinceEntry += bytes;
    this.#metaTotal += bytes;
    if (this.#metaSinceEntry > MAX_META_BYTES_PER_ENTRY || this.#metaTotal > MAX_META_BYTES_TOTAL) {
      this.#fail(new ArchiveError("invalid_archive", "the archive's extended (pax/GNU) headers are too large"));
      return;
    }
    const withNul = pathWithNul(meta);
    if (withNul !== undefined) {
      this.#fail(
        new ArchiveError("invalid_archive", `entry ${quoteEntry(withNul)} contains a NUL byte`, { entry: withNul }),
      );
    }
  }

  #onIgnored(entry: ReadEntry): void {
    // node-tar skips unknown types (sparse files, tape labels, ...) and oversized pax records itself.
    const what = entry.meta ? "an oversized extended header" : `an unsupported entry type (${entry.type})`;
    this.#fail(
      new ArchiveError("invalid_archive", `entry ${quoteEntry(entry.path)} is ${what}`, { entry: entry.path }),
    );
  }

  #onEntry(entry: ReadEntry): void {
    this.#metaSinceEntry = 0;
    if (this.#failure) {
      entry.resume();
      return;
    }
    try {
      this.#accept(entry);
    } catch (error) {
      entry.resume();
      this.#fail(error as Error);
    }
  }

  /** Checks one entry and queues its write; throws the `ArchiveError` that refuses it. */
  #accept(entry: ReadEntry): void {
    const raw = entry.path;
    const refuse: Refuse = (code, why, limit) =>
      new ArchiveError(code, `entry ${quoteEntry(raw)} ${why}`, { entry: raw, ...(limit ? { limit } : {}) });
    this.#entries += 1;
    if (this.#entries > this.caps.maxEntries) {
      throw new ArchiveError(
        "payload_too_large",
        `the archive has more than ${this.caps.maxEntries} entries (stopped at ${quoteEntry(raw)})`,
        { entry: raw, limit: "maxEntries" },
      );
    }
    const segments = checkEntryPath(raw, this.caps.maxPathBytes, refuse);
    if (entry.type === "SymbolicLink")
      throw refuse(
        "invalid_archive",
        `is a symbolic link (to ${quoteEntry(entry.linkpath ?? "")}); links are not allowed (\`tar -h\` stores the target instead)`,
      );
    if (entry.type === "Link")
      throw refuse(
        "invalid_archive",
        `is a hard link (to ${quoteEntry(entry.linkpath ?? "")}); links are not allowed (\`tar --hard-dereference\` stores a copy)`,
      );
    const device = DEVICE_TYPES[entry.type];
    if (device) throw refuse("invalid_archive", `is ${device}; only regular files and directories are allowed`);

    if (entry.type === "Directory") {
      if (entry.size > 0) throw refuse("invalid_archive", "is a directory that carries data");
      entry.resume();
      if (segments.length === 0) return; // "./" itself: the destination already exists.
      this.#enqueue(raw, () => this.#makeDir(segments, refuse));
      return;
    }
    if (!FILE_TYPES.has(entry.type)) throw refuse("invalid_archive", `has an unsupported type (${entry.type})`);
    if (segments.length === 0) throw refuse("invalid_archive", "is a file without a name");
    if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw refuse("invalid_archive", "has an invalid size");
    if (this.#declaredBytes + entry.size > this.caps.maxTotalBytes) {
      throw refuse(
        "payload_too_large",
        `(${entry.size} bytes) takes the archive over the limit of ${this.caps.maxTotalBytes} extracted bytes`,
        "maxTotalBytes",
      );
    }
    this.#declaredBytes += entry.size;
    const mode = (entry.mode ?? 0) & 0o111 ? 0o755 : 0o644;
    this.#enqueue(raw, () => this.#writeFile(segments, entry, mode, refuse), entry);
  }

  #enqueue(raw: string, task: () => Promise<void>, entry?: ReadEntry): void {
    this.#work = this.#work.then(async () => {
      if (this.#failure) {
        entry?.resume();
        return;
      }
      try {
        await task();
      } catch (error) {
        entry?.resume();
        this.#fail(translateFsError(error, raw));
      }
    });
  }

  async #makeDir(segments: string[], refuse: Refuse): Promise<void> {
    const key = segments.join("/");
    if (this.#dirs.has(key)) return;
    if (this.#files.has(key)) throw refuse("invalid_archive", "is a directory, but an earlier entry made it a file");
    await this.#makeParents(segments, refuse);
    await this.#mkdirOwn(key);
  }

  /** Creates the missing parents of an entry, each one a directory this run makes itself. */
  async #makeParents(segments: string[], refuse: Refuse): Promise<void> {
    for (let depth = 1; depth < segments.length; depth += 1) {
      const key = segments.slice(0, depth).join("/");
      if (this.#dirs.has(key)) continue;
      if (this.#files.has(key))
        throw refuse(
          "invalid_archive",
          `needs ${quoteEntry(key)} to be a directory, but an earlier entry made it a file`,
        );
      await this.#mkdirOwn(key);
    }
  }

  async #mkdirOwn(key: string): Promise<void> {
    const target = join(this.root, key);
    // Not recursive: every parent is already known to be one of our directories.
    await mkdir(target, { mode: 0o755 });
    await chmod(target, 0o755); // the umask may have taken bits away
    this.#dirs.add(key);
  }

  async #writeFile(segments: string[], entry: ReadEntry, mode: number, refuse: Refuse): Promise<void> {
    const key = segments.join("/");
    if (this.#dirs.has(key)) throw refuse("invalid_archive", "is a file, but an earlier entry made it a directory");
    await this.#makeParents(segments, refuse);
    const target = join(this.root, key);
    // O_NOFOLLOW: belt and braces, as this run never makes a link that could be followed.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
    const handle = await open(target, flags, 0o600);
    let size = 0;
    try {
      const chunks = entry[Symbol.asyncIterator]();
      for (;;) {
        const next = await this.#unlessFailed(chunks.next());
        if (next.done) break;
        const chunk = next.value as Buffer;
        size += chunk.length;
        this.#writtenBytes += chunk.length;
        if (this.#writtenBytes > this.caps.maxTotalBytes) {
          throw refuse(
            "payload_too_large",
            `takes the archive over the limit of ${this.caps.maxTotalBytes} extracted bytes`,
            "maxTotalBytes",
          );
        }
        await writeAll(handle, chunk);
      }
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    if (size !== entry.size) throw refuse("invalid_archive", `is truncated (${size} of ${entry.size} bytes)`);
    this.#files.set(key, size);
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}
