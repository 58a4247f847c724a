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

function bench(script: string): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, "--quick", "--json"],
      { cwd: ROOT, timeout: 90_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Row[]),
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
});
