import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, link, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { createGzip, gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArchiveError } from "../../server/src/workspaces/archive-error.js";
import { extractArchive } from "../../server/src/workspaces/extract.js";
import type { ArchiveLimits } from "../../server/src/workspaces/limits.js";
import { replaceDirectoryAtomically } from "../../server/src/workspaces/swap.js";
import { END_OF_ARCHIVE, header, type RawEntry, rawTar, rawTarGz } from "../fixtures/archives/raw-tar.js";

let work: string;
let dest: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "knify-archive-"));
  dest = join(work, "dest");
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Every path under `dir` (relative, sorted) with its kind, so a test can see exactly what was written. */
async function tree(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string) => {
    for (const name of await readdir(current)) {
      const full = join(current, name);
      const info = await lstat(full);
      const kind = info.isSymbolicLink() ? "link" : info.isDirectory() ? "dir" : info.isFile() ? "file" : "other";
      found.push(`${relative(dir, full)} (${kind})`);
      if (kind === "dir") await walk(full);
    }
  };
  await walk(dir);
  return found.sort();
}

/** Runs an extraction that must be refused, and checks that nothing appeared outside `dest`. */
async function expectRefused(
  source: Buffer | string | NodeJS.ReadableStream,
  message: RegExp,
  options: { code?: ArchiveError["code"]; limits?: Partial<ArchiveLimits> } = {},
): Promise<ArchiveError> {
  const outsideBefore = (await tree(work)).filter((path) => !path.startsWith("dest"));
  const error = await extractArchive(source, dest, options.limits).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ArchiveError);
  const refusal = error as ArchiveError;
  expect(refusal.code).toBe(options.code ?? "invalid_archive");
  expect(refusal.status).toBe(refusal.code === "payload_too_large" ? 413 : 400);
  expect(refusal.message).toMatch(message);
  const outsideAfter = (await tree(work)).filter((path) => !path.startsWith("dest"));
  expect(outsideAfter).toEqual(outsideBefore);
  // Whatever was written before the refusal is plain files and directories.
  for (const path of await tree(dest)) expect(path).toMatch(/\((file|dir)\)$/);
  return refusal;
}

/** Makes `my-dir/` under `work` and archives it with the system tar, as the spec's example does. */
async function systemTarball(fill: (dir: string) => Promise<void>, args: string[] = ["my-dir/"]): Promise<string> {
  const src = join(work, "src");
  await mkdir(join(src, "my-dir"), { recursive: true });
  await fill(join(src, "my-dir"));
  const archive = join(work, "ws.tar.gz");
  execFileSync("tar", ["-czf", archive, ...args], { cwd: src });
  return archive;
}

describe("extractArchive", () => {
  it("round-trips `tar -czf ws.tar.gz my-dir/` from the system tar, keeping the top-level directory", async () => {
    const binary = randomBytes(300_000);
    const archive = await systemTarball(async (dir) => {
      await mkdir(join(dir, "src/lib"), { recursive: true });
      await mkdir(join(dir, "empty-dir"));
      await writeFile(join(dir, "README.md"), "# hello\n");
      await writeFile(join(dir, ".env"), "TOKEN=x\n");
      await writeFile(join(dir, "src/lib/data.bin"), binary);
      await writeFile(join(dir, "src/empty.txt"), "");
      await writeFile(join(dir, "run.sh"), "#!/bin/sh\necho hi\n");
      await chmod(join(dir, "run.sh"), 0o755);
      await writeFile(join(dir, "private.txt"), "secret");
      await chmod(join(dir, "private.txt"), 0o600);
    });

    const result = await extractArchive(archive, dest);

    expect(result).toEqual({ fileCount: 6, sizeBytes: 8 + 8 + 300_000 + 0 + 18 + 6 });
    expect(await tree(dest)).toEqual([
      "my-dir (dir)",
      "my-dir/.env (file)",
      "my-dir/README.md (file)",
      "my-dir/empty-dir (dir)",
      "my-dir/private.txt (file)",
      "my-dir/run.sh (file)",
      "my-dir/src (dir)",
      "my-dir/src/empty.txt (file)",
      "my-dir/src/lib (dir)",
      "my-dir/src/lib/data.bin (file)",
    ]);
    expect(await readFile(join(dest, "my-dir/src/lib/data.bin"))).toEqual(binary);
    expect(await readFile(join(dest, "my-dir/README.md"), "utf8")).toBe("# hello\n");
    expect((await stat(join(dest, "my-dir/run.sh"))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(dest, "my-dir/private.txt"))).mode & 0o7777).toBe(0o644);
    expect((await stat(join(dest, "my-dir/src"))).mode & 0o7777).toBe(0o755);
  });

  it("accepts the leading ./ of `tar -czf ws.tar.gz -C my-dir .`", async () => {
    const archive = await systemTarball(
      async (dir) => {
        await mkdir(join(dir, "a"));
        await writeFile(join(dir, "a/b.txt"), "bee");
      },
      ["-C", "my-dir", "."],
    );
    const result = await extractArchive(createReadStream(archive), dest);
    expect(result).toEqual({ fileCount: 1, sizeBytes: 3 });
    expect(await tree(dest)).toEqual(["a (dir)", "a/b.txt (file)"]);
  });

  it("reads an archive given as a Buffer, and drops setuid, setgid and sticky bits", async () => {
    const archive = rawTarGz([
      { path: "bin/", type: "5", mode: 0o7777 },
      { path: "bin/tool", data: "x", mode: 0o4755 },
      { path: "bin/conf", data: "y", mode: 0o2666 },
    ]);
    expect(await extractArchive(archive, dest)).toEqual({ fileCount: 2, sizeBytes: 2 });
    expect((await stat(join(dest, "bin"))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(dest, "bin/tool"))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(dest, "bin/conf"))).mode & 0o7777).toBe(0o644);
  });

  it("counts a file written twice once, with its last contents", async () => {
    const archive = rawTarGz([
      { path: "a.txt", data: "first version" },
      { path: "a.txt", data: "second" },
    ]);
    expect(await extractArchive(archive, dest)).toEqual({ fileCount: 1, sizeBytes: 6 });
    expect(await readFile(join(dest, "a.txt"), "utf8")).toBe("second");
  });

  it("refuses an absolute path", async () => {
    const target = join(work, "abs-evil.txt");
    const error = await expectRefused(rawTarGz([{ path: target, data: "pwned" }]), /is an absolute path/);
    expect(error.entry).toBe(target);
    expect(error.message).toContain(JSON.stringify(target));
  });

  it.each([["../escape.txt"], ["a/../../escape.txt"], ["./../escape.txt"]])("refuses the escape %s", async (path) => {
    const error = await expectRefused(
      rawTarGz([
        { path: "a/", type: "5" },
        { path, data: "pwned" },
      ]),
      /escapes the workspace \(".."\)/,
    );
    expect(error.message).toBe(`entry ${JSON.stringify(path)} escapes the workspace ("..")`);
  });

  it("refuses a symlink that points out, before anything is written through it", async () => {
    const outside = join(work, "outside");
    await mkdir(outside);
    const archive = rawTarGz([
      { path: "link", type: "2", linkpath: "../outside" },
      { path: "link/pwned.txt", data: "pwned" },
    ]);
    await expectRefused(archive, /entry "link" is a symbolic link \(to "\.\.\/outside"\)/);
    expect(await readdir(outside)).toEqual([]);
  });

  it("refuses a symlink archived by the system tar", async () => {
    const archive = await systemTarball(async (dir) => {
      await writeFile(join(dir, "ok.txt"), "ok");
      await symlink("/etc/passwd", join(dir, "passwd"));
    });
    await expectRefused(archive, /"my-dir\/passwd" is a symbolic link \(to "\/etc\/passwd"\)/);
  });

  it("refuses a hard link archived by the system tar", async () => {
    const archive = await systemTarball(async (dir) => {
      await writeFile(join(dir, "a.txt"), "same inode");
      await link(join(dir, "a.txt"), join(dir, "b.txt"));
    });
    await expectRefused(archive, /is a hard link \(to "my-dir\/(a|b)\.txt"\)/);
  });

  it("refuses a hard link to a path outside", async () => {
    await expectRefused(rawTarGz([{ path: "passwd", type: "1", linkpath: "/etc/passwd" }]), /"passwd" is a hard link/);
  });

  it.each([
    ["3", "a character device"],
    ["4", "a block device"],
    ["6", "a FIFO"],
  ])("refuses type %s (%s)", async (type, what) => {
    const error = await expectRefused(
      rawTarGz([
        { path: "ok.txt", data: "fine" },
        { path: "dev/thing", type },
      ]),
      new RegExp(`entry "dev/thing" is ${what}; only regular files and directories are allowed`),
    );
    expect(error.entry).toBe("dev/thing");
  });

  it("refuses an entry type it does not know", async () => {
    await expectRefused(
      rawTarGz([{ path: "sparse.bin", type: "S", data: "x" }]),
      /"sparse.bin" is an unsupported entry type/,
    );
  });

  it("refuses a NUL byte in a pax path and a backslash in a path", async () => {
    await expectRefused(
      rawTarGz([{ path: "plain", data: "x", pax: { path: "a\u0000b" } }]),
      /entry "a\\u0000b" contains a NUL byte/,
    );
    await rm(dest, { recursive: true, force: true });
    const gnuLongName = { path: "././@LongLink", type: "L", data: "a\u0000b\u0000" };
    await expectRefused(rawTarGz([gnuLongName, { path: "plain", data: "x" }]), /entry "a\\u0000b" contains a NUL byte/);
    await rm(dest, { recursive: true, force: true });
    await expectRefused(rawTarGz([{ path: "..\\..\\evil.txt", data: "x" }]), /contains a backslash/);
  });

  it("refuses a path over maxPathBytes, counting UTF-8 bytes", async () => {
    const long = `${"d/".repeat(520)}f.txt`; // 1045 bytes, given through a pax record
    await expectRefused(
      rawTarGz([{ path: "short", data: "x", pax: { path: long } }]),
      /is 1045 bytes long; the limit is 1024/,
    );
    await rm(dest, { recursive: true, force: true });
    await expectRefused(rawTarGz([{ path: "é".repeat(6), data: "x" }]), /is 12 bytes long; the limit is 10/, {
      limits: { maxPathBytes: 10 },
    });
  });

  it("refuses more than maxEntries entries with 413, naming where it stopped", async () => {
    const entries: RawEntry[] = [{ path: "d/", type: "5" }];
    for (let i = 0; i < 5; i += 1) entries.push({ path: `d/f${i}`, data: "x" });
    await expectRefused(rawTarGz(entries), /more than 5 entries \(stopped at "d\/f4"\)/, {
      code: "payload_too_large",
      limits: { maxEntries: 5 },
    });
    await rm(dest, { recursive: true, force: true });
    expect(await extractArchive(rawTarGz(entries), dest, { maxEntries: 6 })).toEqual({ fileCount: 5, sizeBytes: 5 });
  });

  it("stops a gzip bomb at maxTotalBytes while reading, long before the end of the stream", async () => {
    const bombBytes = 1024 * 1024 * 1024; // 1 GiB of zeros, generated lazily and never held in memory
    let generated = 0;
    async function* bomb() {
      yield header({ path: "bomb.bin", size: bombBytes });
      const zeros = Buffer.alloc(64 * 1024);
      while (generated < bombBytes) {
        generated += zeros.length;
        yield zeros;
      }
      yield END_OF_ARCHIVE;
    }
    const plain = Readable.from(bomb());
    const source = plain.pipe(createGzip());
    await expectRefused(source, /entry "bomb.bin" \(1073741824 bytes\) takes the archive over the limit of 1048576/, {
      code: "payload_too_large",
      limits: { maxTotalBytes: 1024 * 1024 },
    });
    plain.destroy();
    expect(generated).toBeLessThan(16 * 1024 * 1024);
    expect(await readdir(dest)).toEqual([]);
  });

  it("streams: extracting 128 MiB holds only a bounded amount of it in memory", async () => {
    const fileBytes = 128 * 1024 * 1024;
    async function* tar() {
      yield header({ path: "zeros.bin", size: fileBytes });
      const zeros = Buffer.alloc(256 * 1024);
      for (let sent = 0; sent < fileBytes; sent += zeros.length) yield zeros;
      yield END_OF_ARCHIVE;
    }
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
    }, 5);
    try {
      // Zeros compress ~1000:1; this test is about memory, not the ratio cap (tested on its own below).
      const result = await extractArchive(Readable.from(tar()).pipe(createGzip()), dest, {
        maxCompressionRatio: 100_000,
      });
      expect(result).toEqual({ fileCount: 1, sizeBytes: fileBytes });
    } finally {
      clearInterval(sampler);
    }
    expect((await stat(join(dest, "zeros.bin"))).size).toBe(fileBytes);
    // Holding the data (as a leak of every chunk would) needs over 128 MiB; streaming needs a few buffers.
    expect(peak).toBeLessThan(48 * 1024 * 1024);
  });

  it("refuses a stream over maxCompressionRatio early, without reading or writing it all", async () => {
    const fileBytes = 500 * 1024 * 1024; // under the 512 MiB cap on extracted bytes
    let sent = 0;
    async function* tar() {
      yield header({ path: "zeros.bin", size: fileBytes });
      const zeros = Buffer.alloc(256 * 1024);
      for (; sent < fileBytes; sent += zeros.length) yield zeros;
      yield END_OF_ARCHIVE;
    }
    const refusal = await expectRefused(
      Readable.from(tar()).pipe(createGzip()),
      /decompresses to more than 100 times its size/,
      { code: "payload_too_large" },
    );
    expect(refusal.limit).toBe("maxCompressionRatio");
    // Stopped early in a 500 MiB bomb. (The server's side stops after ~1 MiB; the test's own gzip runs
    // ahead, as each 16 KiB of its output in the pipes holds ~16 MiB of zeros.)
    expect(sent).toBeLessThan(fileBytes / 2);
  });

  it("refuses the file that takes the total over maxTotalBytes", async () => {
    const chunk = Buffer.alloc(400 * 1024, 1);
    const archive = rawTarGz([
      { path: "one", data: chunk },
      { path: "two", data: chunk },
      { path: "three", data: chunk },
    ]);
    await expectRefused(archive, /entry "three" \(409600 bytes\) takes the archive over the limit of 1048576/, {
      code: "payload_too_large",
      limits: { maxTotalBytes: 1024 * 1024 },
    });
  });

  it("refuses an upload over maxCompressedBytes", async () => {
    const archive = rawTarGz([{ path: "noise.bin", data: randomBytes(20_000) }]);
    await expectRefused(archive, /over the limit of 10000 compressed bytes/, {
      code: "payload_too_large",
      limits: { maxCompressedBytes: 10_000 },
    });
  });

  it("refuses input that is not gzip: a plain tar, and random bytes", async () => {
    await expectRefused(rawTar([{ path: "a.txt", data: "x" }]), /not a valid gzip stream \(incorrect header check\)/);
    await expectRefused(randomBytes(4096), /not a valid gzip stream/);
    await expectRefused(Buffer.alloc(0), /truncated/);
  });

  it("refuses a corrupt tar header inside valid gzip", async () => {
    const tar = rawTar([{ path: "a.txt", data: "hello" }]);
    tar[0] = "b".charCodeAt(0); // the checksum no longer matches
    await expectRefused(gzipSync(tar), /the archive is corrupt.*checksum failure/);
  });

  it("refuses gzip that is not a tar at all", async () => {
    await expectRefused(gzipSync(Buffer.from("just some text, not a tarball\n".repeat(40))), /the archive is corrupt/);
  });

  it("refuses a system-tar archive cut short", async () => {
    const archive = await systemTarball(async (dir) => {
      await writeFile(join(dir, "noise.bin"), randomBytes(200_000));
    });
    const whole = await readFile(archive);
    await expectRefused(whole.subarray(0, Math.floor(whole.length / 2)), /truncated/);
  });

  it("refuses a tar stream that stops mid-entry or without its end marker", async () => {
    const midEntry = Buffer.concat([header({ path: "big.bin", size: 10_000 }), Buffer.alloc(1024)]);
    await expectRefused(gzipSync(midEntry), /truncated/);
    await rm(dest, { recursive: true, force: true });
    await expectRefused(
      rawTarGz([{ path: "a.txt", data: "x" }], { end: false }),
      /ends without the end-of-archive marker/,
    );
  });

  it("refuses a second archive appended after the end-of-archive marker", async () => {
    const first = rawTar([{ path: "a.txt", data: "x" }]);
    const second = rawTar([{ path: "b.bin", data: randomBytes(100_000) }]);
    await expectRefused(gzipSync(Buffer.concat([first, second])), /holds data after its end-of-archive marker/);
  });

  it("accepts the zero padding tar writes after the marker, but not megabytes of it", async () => {
    const tar = rawTar([{ path: "a.txt", data: "x" }]);
    expect(await extractArchive(gzipSync(Buffer.concat([tar, Buffer.alloc(10_240)])), dest)).toEqual({
      fileCount: 1,
      sizeBytes: 1,
    });
    await rm(dest, { recursive: true, force: true });
    await expectRefused(
      gzipSync(Buffer.concat([tar, Buffer.alloc(3 * 1024 * 1024)])),
      /goes on for more than 1048576 bytes/,
      { limits: { maxCompressionRatio: 100_000 } },
    );
  });

  it("refuses oversized extended headers", async () => {
    await expectRefused(
      rawTarGz([{ path: "a.txt", data: "x", pax: { comment: "z".repeat(300 * 1024) } }]),
      /oversized extended header|extended \(pax\/GNU\) headers are too large/,
    );
  });

  it("refuses a directory and a file of the same name", async () => {
    await expectRefused(
      rawTarGz([
        { path: "a", data: "file" },
        { path: "a/b", data: "under a file" },
      ]),
      /entry "a\/b" needs "a" to be a directory, but an earlier entry made it a file/,
    );
  });

  it("will not extract into a directory that already holds something", async () => {
    await mkdir(dest);
    await symlink(work, join(dest, "sneaky"));
    await expect(extractArchive(rawTarGz([{ path: "sneaky/x", data: "x" }]), dest)).rejects.toThrow(
      /needs an empty destination/,
    );
    expect(await readdir(work)).toEqual(["dest"]);
  });
});

describe("replaceDirectoryAtomically", () => {
  const archiveOf = (files: Record<string, string>) =>
    rawTarGz(Object.entries(files).map(([path, data]) => ({ path, data })));

  it("creates the directory on first use and returns what the build returned", async () => {
    const final = join(work, "workspaces", "ws_1");
    const result = await replaceDirectoryAtomically(final, (tmp) => extractArchive(archiveOf({ "a.txt": "A" }), tmp));
    expect(result).toEqual({ fileCount: 1, sizeBytes: 1 });
    expect(await readFile(join(final, "a.txt"), "utf8")).toBe("A");
    expect(await readdir(join(work, "workspaces"))).toEqual(["ws_1"]);
  });

  it("swaps in the whole new tree and removes the old one", async () => {
    const final = join(work, "ws");
    await replaceDirectoryAtomically(final, (tmp) => extractArchive(archiveOf({ "old.txt": "old" }), tmp));
    await replaceDirectoryAtomically(final, (tmp) => extractArchive(archiveOf({ "new.txt": "new" }), tmp));
    expect(await tree(final)).toEqual(["new.txt (file)"]);
    expect(await readdir(work)).toEqual(["ws"]);
  });

  it("keeps the old contents when the build fails, and leaves no temp dir", async () => {
    const final = join(work, "ws");
    await replaceDirectoryAtomically(final, (tmp) => extractArchive(archiveOf({ "keep.txt": "keep me" }), tmp));
    const hostile = rawTarGz([
      { path: "half-written.txt", data: "partial" },
      { path: "../escape.txt", data: "pwned" },
    ]);
    await expect(replaceDirectoryAtomically(final, (tmp) => extractArchive(hostile, tmp))).rejects.toThrow(
      /escapes the workspace/,
    );
    expect(await tree(final)).toEqual(["keep.txt (file)"]);
    expect(await readFile(join(final, "keep.txt"), "utf8")).toBe("keep me");
    expect(await readdir(work)).toEqual(["ws"]);
  });

  it("serialises concurrent replacements: the result is one whole tree", async () => {
    const final = join(work, "ws");
    await Promise.all(
      ["a", "b", "c", "d"].map((name) =>
        replaceDirectoryAtomically(final, (tmp) => extractArchive(archiveOf({ [`${name}.txt`]: name }), tmp)),
      ),
    );
    const files = await tree(final);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[abcd]\.txt \(file\)$/);
    expect(await readdir(work)).toEqual(["ws"]);
  });
});
