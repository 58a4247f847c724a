import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Benchmarks are not timed tests: this only checks that each bench runs (on a tiny input, `--quick`) and
// reports every row with a ratio against its baseline. The figures themselves come from `npm run bench`.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Row {
  name: string;
  result: { candidate: number; baseline: number; ratio: number; min: number; max: number };
}

function bench<T = Row[]>(script: string, timeout = 90_000): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, "--quick", "--json"], { cwd: ROOT, timeout }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as T),
    );
  });
}

function expectRatios(rows: Row[]): void {
  for (const { name, result } of rows) {
    expect(result.candidate, name).toBeGreaterThan(0);
    expect(result.baseline, name).toBeGreaterThan(0);
    expect(result.min, name).toBeLessThanOrEqual(result.ratio);
    expect(result.max, name).toBeGreaterThanOrEqual(result.ratio);
  }
}

describe("bench/", () => {
  it("webhooks.mjs measures verify() and unwrap() on 1 KB and 64 KB bodies against bare node:crypto", async () => {
    const rows = await bench("bench/webhooks.mjs");
    expect(rows.map((row) => row.name)).toEqual([
      "verify() 1 KB body",
      "unwrap() 1 KB body",
      "verify() 64 KB body",
      "unwrap() 64 KB body",
    ]);
    expectRatios(rows);
  }, 120_000);

  it("transport.mjs measures client.jobs.get() (undici and fetch paths) against undici.request, and cold import", async () => {
    const { rows, coldImport } = await bench<{
      rows: Row[];
      coldImport: { sdk: { median: number }; baseline: { median: number } };
    }>("bench/transport.mjs");
    expect(rows.map((row) => row.name)).toEqual([
      "client.jobs.get(), 32 in flight",
      "client.jobs.get() over fetch, 32 in flight",
    ]);
    expectRatios(rows);
    expect(coldImport.sdk.median).toBeGreaterThan(0);
    expect(coldImport.baseline.median).toBeGreaterThan(0);
  }, 120_000);

  it("server.mjs measures GET /jobs/{id}, GET /keys/verify and POST /jobs on a real server against bare Koa, with p99, CPU and GC per request", async () => {
    const rows =
      await bench<
        (Row & {
          p99: { ours: number; baseline: number };
          cpuUs: { ours: number; baseline: number; ratio: number };
          gcUs: { ours: number; baseline: number };
        })[]
      >("bench/server.mjs");
    expect(rows.map((row) => row.name)).toEqual([
      "GET /jobs/{id}, 50 connections",
      "GET /keys/verify, 50 connections",
      "POST /jobs, 50 connections",
    ]);
    expectRatios(rows);
    for (const row of rows) {
      expect(row.p99.ours, row.name).toBeGreaterThan(0);
      expect(row.p99.baseline, row.name).toBeGreaterThan(0);
      // Linux (/proc): the servers' CPU per request (/proc counts in 10 ms ticks, so a tiny run's baseline can
      // read 0), and its ratio computed from the two.
      expect(row.cpuUs.ours, row.name).toBeGreaterThan(0);
      expect(row.cpuUs.baseline, row.name).toBeGreaterThanOrEqual(0);
      expect(row.cpuUs.ratio, row.name).toBeCloseTo(row.cpuUs.baseline / row.cpuUs.ours, 6);
      // GC per request, read from each server's --trace-gc lines: a number (0 when a tiny round had no GC).
      expect(row.gcUs.ours, row.name).toBeGreaterThanOrEqual(0);
      expect(row.gcUs.baseline, row.name).toBeGreaterThanOrEqual(0);
    }
    // …and the lines were read: the knify server collects garbage somewhere in three paths' rounds.
    expect(rows.reduce((sum, row) => sum + row.gcUs.ours, 0)).toBeGreaterThan(0);
  }, 120_000);

  // Node under valgrind starts slowly (~20 s per server on this machine): the longest of the quick runs.
  it("instructions.mjs counts each server's instructions per request under callgrind, with the ratio", async () => {
    const report = await bench<{
      skipped?: string;
      rows: { name: string; ours: number; baseline: number; ratio: number; target?: number }[];
    }>("bench/instructions.mjs", 280_000);
    // .ci/run installs valgrind: a skip here would hide that the bench no longer runs.
    expect(report.skipped).toBeUndefined();
    expect(report.rows.map((row) => row.name)).toEqual([
      "GET /jobs/{id}, 10 connections",
      "GET /keys/verify, 10 connections",
    ]);
    for (const row of report.rows) {
      // Even bare Koa executes tens of thousands of instructions per request; ours does more.
      expect(row.baseline, row.name).toBeGreaterThan(10_000);
      expect(row.ours, row.name).toBeGreaterThan(row.baseline);
      expect(row.ratio, row.name).toBeCloseTo(row.baseline / row.ours, 9);
    }
    expect(report.rows[0]?.target).toBe(0.5);
  }, 300_000);

  it("growth.mjs measures each read on a small and a larger seeded store, the ratio against the smallest, and RSS", async () => {
    const report = await bench<{
      sizes: number[];
      rows: { name: string; bySize: { size: number; median: number }[]; result: Row["result"] }[];
      rss: { size: number; atStart: number; bytes: number }[];
    }>("bench/growth.mjs");
    expect(report.sizes).toEqual([100, 1000]);
    expect(report.rows.map((row) => row.name)).toEqual([
      "GET /jobs (first page)",
      "GET /jobs (deep page)",
      "GET /jobs/{id}",
      "GET /jobs/{id}/events",
      "GET /keys/verify (unused key)",
    ]);
    for (const { name, bySize } of report.rows)
      expect(
        bySize.map((s) => s.size),
        name,
      ).toEqual([100, 1000]);
    expectRatios(report.rows);
    expect(report.rss.map((r) => r.size)).toEqual([100, 1000]);
    for (const { atStart, bytes } of report.rss) {
      expect(atStart).toBeGreaterThan(10 * 2 ** 20);
      expect(bytes).toBeGreaterThan(10 * 2 ** 20);
    }
  }, 120_000);
});
