import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

// The size bench itself (bench/sizes.mjs), run as `npm run bench` runs it, on the built sdk/dist.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Row {
  name: string;
  packages: string[];
  minified: number;
  gzipped: number;
  lazyGzipped: number;
  staticBuiltins: string[];
  errors: number;
  warnings: number;
  ratio: number;
}

function sizes(): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["bench/sizes.mjs", "--json"],
      { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Row[]),
    );
  });
}

const KB = 1024;

it("bench/sizes.mjs bundles `.` for neutral (worker, edge), browser and node with no errors, each within its budget", async () => {
  const rows = await sizes();
  expect(rows.map((row) => row.name)).toEqual([
    "@knify/sdk",
    "@knify/sdk (browser)",
    "@knify/sdk (node)",
    "@knify/sdk/webhooks",
    "openapi-fetch (baseline)",
  ]);
  const [neutral, browser, node, webhooks, baseline] = rows as [Row, Row, Row, Row, Row];

  for (const row of rows) {
    expect(row.gzipped, row.name).toBeGreaterThan(0);
    expect(row.gzipped, row.name).toBeLessThan(row.minified);
    expect(row.errors, row.name).toBe(0);
  }
  // `./webhooks` gets one benign warning: tsup's code splitting leaves a bare `import "./chunk…"` that
  // esbuild drops because the package says it has no side effects. `.` gets none.
  for (const row of [neutral, browser, node]) expect(row.warnings, row.name).toBe(0);
  expect(baseline.ratio).toBe(1);
  expect(neutral.ratio).toBeCloseTo(neutral.gzipped / baseline.gzipped, 10);
  // The SDK bundles openapi-fetch, so it cannot be smaller; webhooks carries no client code at all.
  expect(neutral.gzipped).toBeGreaterThan(baseline.gzipped);
  expect(webhooks.gzipped).toBeLessThan(neutral.gzipped);

  // Budgets (issue 11 part 2, issue 14 item 1), min+gzip of what loads up front.
  expect(neutral.gzipped).toBeLessThanOrEqual(15 * KB);
  expect(browser.gzipped).toBeLessThanOrEqual(15 * KB);
  expect(node.gzipped).toBeLessThanOrEqual(17 * KB);
  expect(webhooks.gzipped).toBeLessThanOrEqual(6 * KB);

  // Outside Node the package's `#runtime` import map picks the default runtime (a small chunk loaded when a
  // client is made): no undici, no tar, not even lazily; the browser build had no externals, so it needs no
  // Node built-in at all.
  for (const row of [neutral, browser, webhooks]) {
    expect(
      row.packages.filter((name) => ["undici", "tar"].includes(name)),
      row.name,
    ).toEqual([]);
    // What loads lazily there: the default runtime (0.3 KB) and the job waits (sdk/src/resources/wait-for-turn.ts,
    // 0.9 KB), nothing of Node's.
    expect(row.lazyGzipped, row.name).toBeLessThan(2 * KB);
  }
  expect([neutral.staticBuiltins, browser.staticBuiltins, webhooks.staticBuiltins]).toEqual([[], [], []]);
  // In Node, undici and tar are bundled too, but only in chunks loaded on first use.
  expect(node.packages).toEqual(expect.arrayContaining(["undici", "tar"]));
  expect(node.lazyGzipped).toBeGreaterThan(50 * KB);
});
