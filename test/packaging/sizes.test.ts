import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

// The size bench itself (bench/sizes.mjs), run as `npm run bench` runs it, on the built sdk/dist.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Row {
  name: string;
  minified: number;
  gzipped: number;
  lazyGzipped: number;
  staticBuiltins: string[];
  ratio: number;
}

function sizes(): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["bench/sizes.mjs", "--json"],
      { cwd: ROOT, timeout: 30_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Row[]),
    );
  });
}

it("bench/sizes.mjs measures both entries against openapi-fetch: within budget, no tar or undici, no Node built-ins up front", async () => {
  const rows = await sizes();
  expect(rows.map((row) => row.name)).toEqual(["@knify/sdk", "@knify/sdk/webhooks", "openapi-fetch (baseline)"]);
  const [sdk, webhooks, baseline] = rows as [Row, Row, Row];

  for (const row of rows) expect(row.gzipped).toBeGreaterThan(0);
  for (const row of rows) expect(row.gzipped).toBeLessThan(row.minified);
  expect(baseline.ratio).toBe(1);
  expect(sdk.ratio).toBeCloseTo(sdk.gzipped / baseline.gzipped, 10);
  // The SDK bundles openapi-fetch, so it cannot be smaller; webhooks carries no client code at all.
  expect(sdk.gzipped).toBeGreaterThan(baseline.gzipped);
  expect(webhooks.gzipped).toBeLessThan(sdk.gzipped);
  // Outside Node the package's `#runtime` import map picks the default runtime: no undici, no tar, not even lazily.
  expect(sdk.lazyGzipped).toBe(0);
  expect(webhooks.lazyGzipped).toBe(0);
  // The budgets of issue 11 (part 2): `.` within 15 KB min+gzip.
  expect(sdk.gzipped).toBeLessThanOrEqual(15 * 1024);
  // Neither entry imports a Node built-in statically, so both load in browsers and edge runtimes.
  expect([sdk.staticBuiltins, webhooks.staticBuiltins]).toEqual([[], []]);
});
