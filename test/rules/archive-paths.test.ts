import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArchiveError } from "../../server/src/workspaces/archive-error.js";
import { extractArchive } from "../../server/src/workspaces/extract.js";
import { type RawEntry, rawTarGz } from "../fixtures/archives/raw-tar.js";

// Issue 17, from the mutation run of server/src/workspaces/entry-path.ts: the edges of the path checks —
// a path of exactly the byte limit, GNU long names padded with NULs, pax headers with several records,
// a value with spaces, other records, and malformed record lengths.

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "knify-rules-archive-"));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const dest = () => join(work, "dest");
const extract = (entries: RawEntry[], limits = {}) => extractArchive(rawTarGz(entries), dest(), limits);
const gnuLongName = (data: string): RawEntry => ({ path: "././@LongLink", type: "L", data });

async function expectNulRefusal(entries: RawEntry[], entry: string) {
  const error = await extract(entries).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ArchiveError);
  expect((error as ArchiveError).code).toBe("invalid_archive");
  expect((error as ArchiveError).message).toContain(`entry ${JSON.stringify(entry)} contains a NUL byte`);
}

describe("extractArchive: entry paths at the edges", () => {
  it("takes a path of exactly maxPathBytes bytes", async () => {
    await extract([{ path: "abcdefghij", data: "ten" }], { maxPathBytes: 10 });
    expect(await readFile(join(dest(), "abcdefghij"), "utf8")).toBe("ten");
  });

  it("takes a GNU long name padded with several NULs, as the name without them", async () => {
    await extract([gnuLongName("long-name.txt\u0000\u0000\u0000"), { path: "short", data: "gnu" }]);
    expect(await readdir(dest())).toEqual(["long-name.txt"]);
  });

  it("refuses a GNU long name with a NUL inside, even when it starts like a pax record", async () => {
    await expectNulRefusal([gnuLongName("12 a\u0000b\u0000"), { path: "plain", data: "x" }], "12 a\u0000b");
  });

  it("refuses a NUL in a pax path that is not the first record", async () => {
    await expectNulRefusal([{ path: "plain", data: "x", pax: { comment: "first", path: "a\u0000b" } }], "a\u0000b");
    await rm(dest(), { recursive: true, force: true });
    await expectNulRefusal(
      [{ path: "ln", type: "2", linkpath: "t", pax: { mtime: "1", linkpath: "t\u0000u" } }],
      "t\u0000u",
    );
  });

  it("refuses a NUL in a pax path that holds spaces", async () => {
    await expectNulRefusal([{ path: "plain", data: "x", pax: { path: "my file\u0000.txt" } }], "my file\u0000.txt");
  });

  it("refuses a NUL in any other pax record too (a pax header cannot be told from a GNU name that looks like one)", async () => {
    const error = await extract([{ path: "kept.txt", data: "k", pax: { comment: "see path=a\u0000b" } }]).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ArchiveError);
    // Named as the whole record, since no path record holds the NUL.
    expect((error as ArchiveError).message).toMatch(/^entry ".*comment=see path=a\\u0000b\\n" contains a NUL byte$/);
  });

  it("takes pax records without a NUL, whatever they mention", async () => {
    await extract([{ path: "kept.txt", data: "k", pax: { comment: "see path=a b", mtime: "1700000000" } }]);
    expect(await readdir(dest())).toEqual(["kept.txt"]);
  });

  it.each([
    ["a length shorter than its own digits", "1 path=a\n"],
    ["a length of zero", "0 path=a\n"],
    ["no length at all", "path=a\n"],
    ["a valid record followed by bytes without a length", "7 a=bc\nxx"],
  ])("settles on a pax header with %s (it never loops)", async (_, records) => {
    const entries: RawEntry[] = [
      { path: "PaxHeader/x", type: "x", data: records },
      { path: "plain", data: "p" },
    ];
    const outcome = await extract(entries).then(
      () => "extracted",
      (caught: unknown) => (caught instanceof ArchiveError ? "refused" : caught),
    );
    expect(["extracted", "refused"]).toContain(outcome);
  });
});
