import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sweepOrphanSandboxes } from "../../server/src/jobs/sandbox.js";
import { openSqliteStore } from "../../server/src/store/sqlite/index.js";
import { aJob, jobEvents, T0 } from "../store/target.js";

// The start-up sweep against a real SQLite file and a real directory (issue 11: it used to load the sandbox id of
// every job not cleaned up at once, so a 1M-job server started at 310 MiB). It must ask the store about the
// directories it finds, in bounded batches, and still remove exactly the orphans.

const root = mkdtempSync(join(tmpdir(), "knify-orphan-sweep-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the orphan-sandbox sweep", () => {
  it("asks the store about the sandboxes on disk in bounded batches and removes exactly the orphans", async () => {
    const store = await openSqliteStore(join(root, "knify.db"));
    const dir = join(root, "sandboxes");
    const anHourAgo = new Date(Date.now() - 3_600_000);
    const make = (name: string, old = true) => {
      mkdirSync(join(dir, name, "src"), { recursive: true });
      writeFileSync(join(dir, name, "src", "file.txt"), name);
      if (old) utimesSync(join(dir, name), anHourAgo, anHourAgo);
    };
    try {
      // 11 jobs with a sandbox: 8 still live, 3 cleaned up (their directories are orphans now).
      const live: string[] = [];
      const cleaned: string[] = [];
      for (let n = 0; n < 11; n++) {
        const sandboxId = `sbx_LIVE${String(n).padStart(4, "0")}`;
        const job = aJob();
        await store.jobs.create(job, null, jobEvents);
        await store.jobs.claimNext("simulated", "r1", T0, 60_000);
        await store.jobs.markRunning(job.id, "r1", { sandboxId, sessionId: null, now: T0 }, jobEvents);
        await store.jobs.finish(job.id, "r1", { status: "completed", error: null, now: T0 + 1 }, jobEvents);
        if (n % 4 === 3) {
          await store.jobs.cleanup(job.id, T0 + 2, jobEvents);
          cleaned.push(sandboxId);
        } else live.push(sandboxId);
        make(sandboxId);
      }
      // Sandboxes no job refers to, a copy cut short, one made after this process started, and other files.
      const unknown = Array.from({ length: 6 }, (_, n) => `sbx_NOJOB${n}`);
      for (const name of unknown) make(name);
      make(".sbx_HALF.partial");
      make("sbx_NEWNOJOB", false);
      make(".sbx_NEWHALF.partial", false);
      writeFileSync(join(dir, "not-a-sandbox.txt"), "left alone");

      const asked: string[][] = [];
      const removed = await sweepOrphanSandboxes(
        dir,
        (sandboxIds) => {
          asked.push([...sandboxIds]);
          return store.sandboxes.liveSandboxIds(sandboxIds);
        },
        Date.now() - 60_000,
        4,
      );

      const orphans = [...cleaned, ...unknown, ".sbx_HALF.partial"];
      expect(removed.sort()).toEqual(orphans.sort());
      expect(readdirSync(dir).sort()).toEqual(
        [...live, "sbx_NEWNOJOB", ".sbx_NEWHALF.partial", "not-a-sandbox.txt"].sort(),
      );
      // Every old sandbox directory asked about once, never more than a batch at a time.
      expect(asked.flat().sort()).toEqual([...live, ...cleaned, ...unknown].sort());
      expect(Math.max(...asked.map((batch) => batch.length))).toBeLessThanOrEqual(4);
      expect(asked.length).toBe(Math.ceil((live.length + cleaned.length + unknown.length) / 4));
    } finally {
      await store.close();
    }
  });

  it("asks nothing when there is no sandbox directory", async () => {
    const asked: (readonly string[])[] = [];
    const removed = await sweepOrphanSandboxes(
      join(root, "missing"),
      async (ids) => {
        asked.push(ids);
        return new Set();
      },
      Date.now(),
    );
    expect(removed).toEqual([]);
    expect(asked).toEqual([]);
  });
});
