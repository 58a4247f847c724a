// SDK transport bench: `client.jobs.get()` with 32 requests in flight against a stub server, next to bare
// `undici.request` (the floor of any Node HTTP client) measured in the same run.
//
//   npm run build && node bench/transport.mjs [--quick] [--json]
//
// The stub server (bench/stub-server.mjs) and the load generator run as two processes pinned to different
// cores with `taskset` (when it exists), so they do not compete for one core. The load generator is this
// file again, run with `--load`; it alternates rounds of the baseline and the candidates and prints JSON.

import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { alternate, hasTaskset, median, printTable, runIfMain } from "./harness.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const IN_FLIGHT = 32;

/** `node args…` pinned to `core` when taskset exists. */
function pinned(core, args, useTaskset) {
  return useTaskset
    ? spawn("taskset", ["-c", String(core), process.execPath, ...args], { stdio: ["ignore", "pipe", "inherit"] })
    : spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
}

/** Requests per second of `call` with IN_FLIGHT loops running it back to back for `ms`. */
async function throughput(call, ms) {
  let count = 0;
  const until = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < until) {
        await call();
        count++;
      }
    }),
  );
  return (count * 1000) / (performance.now() - start);
}

/** The load generator: runs in its own process, prints its rows as JSON. */
async function load(port, quick) {
  const undici = await import("undici");
  const { KnifyClient } = await import("@knify/sdk");
  const origin = `http://127.0.0.1:${port}`;
  const headers = { authorization: "Bearer knify_test_bench", accept: "application/json" };
  const agent = new undici.Agent();
  const bare = async () => {
    const { statusCode, body } = await undici.request(`${origin}/jobs/job_bench`, { dispatcher: agent, headers });
    const job = await body.json();
    if (statusCode !== 200 || job.id !== "job_bench") throw new Error("stub answered wrongly");
  };
  const client = new KnifyClient("knify_test_bench", { baseURL: origin, maxRetries: 0 });
  const viaClient = () => client.jobs.get("job_bench");
  // The fetch path, as taken under msw or with a user-supplied fetch: Node's global fetch.
  const fetchClient = new KnifyClient("knify_test_bench", {
    baseURL: origin,
    maxRetries: 0,
    fetch: (input, init) => globalThis.fetch(input, init),
  });
  const viaFetch = () => fetchClient.jobs.get("job_bench");

  const rounds = quick ? 2 : 9;
  const ms = quick ? 100 : 1000;
  for (const call of [bare, viaClient, viaFetch]) await throughput(call, quick ? 50 : 500); // warm-up
  const rows = [];
  for (const [name, candidate, target] of [
    [`client.jobs.get(), ${IN_FLIGHT} in flight`, viaClient, 0.5],
    [`client.jobs.get() over fetch, ${IN_FLIGHT} in flight`, viaFetch, undefined],
  ]) {
    const result = await alternate({
      rounds,
      baseline: () => throughput(bare, ms),
      candidate: () => throughput(candidate, ms),
    });
    rows.push({ name, unit: "req/s", result, target });
  }
  await client.close?.();
  await fetchClient.close?.();
  await agent.close();
  return rows;
}

export async function measureTransport({ quick = false } = {}) {
  const useTaskset = hasTaskset();
  const server = pinned(0, [`${HERE}stub-server.mjs`], useTaskset);
  try {
    const [chunk] = await once(server.stdout, "data");
    const port = Number(String(chunk).trim());
    const generator = pinned(
      1,
      [`${HERE}transport.mjs`, "--load", String(port), ...(quick ? ["--quick"] : [])],
      useTaskset,
    );
    let output = "";
    generator.stdout.on("data", (data) => {
      output += data;
    });
    const [code] = await once(generator, "exit");
    if (code !== 0) throw new Error(`the load generator exited with ${code}`);
    return { pinned: useTaskset, rows: JSON.parse(output) };
  } finally {
    server.kill();
  }
}

/** Milliseconds a fresh Node process, started in `cwd`, takes to `import(specifier)`, timed inside that process. */
function coldImport(specifier, cwd) {
  const code = `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t);`;
  return Number(execFileSync(process.execPath, ["--input-type=module", "-e", code], { cwd }).toString().trim());
}

/**
 * An app directory with both packages installed as npm installs them for a user: the SDK from its packed
 * tarball (`npm pack`, so exactly the published files), openapi-fetch copied. In this repository
 * `node_modules/@knify/sdk` is a workspace symlink, and resolving through it cost the SDK ~1.5 ms more per
 * import than a user's install (Node realpaths and reads the package scope twice), which the baseline, a
 * plain directory, never paid.
 */
async function installedApp() {
  const app = mkdtempSync(join(tmpdir(), "knify-cold-import-"));
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", app], {
      cwd: join(ROOT, "sdk"),
      stdio: ["ignore", "pipe", "ignore"],
    }).toString(),
  );
  const sdkDir = join(app, "node_modules", "@knify", "sdk");
  mkdirSync(sdkDir, { recursive: true });
  const tar = await import("tar");
  await tar.x({ file: join(app, packed[0].filename), cwd: sdkDir, strip: 1 });
  cpSync(join(ROOT, "node_modules", "openapi-fetch"), join(app, "node_modules", "openapi-fetch"), { recursive: true });
  return app;
}

/** Cold `import('@knify/sdk')` against `import('openapi-fetch')`, both installed, alternating, median with min–max (ms). */
export async function measureColdImport({ quick = false } = {}) {
  const app = await installedApp();
  const runs = { sdk: [], baseline: [] };
  try {
    for (let round = 0; round < (quick ? 2 : 11); round++) {
      const order = round % 2 === 0 ? ["sdk", "baseline"] : ["baseline", "sdk"];
      for (const which of order) runs[which].push(coldImport(which === "sdk" ? "@knify/sdk" : "openapi-fetch", app));
    }
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
  const summary = (values) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) });
  return { sdk: summary(runs.sdk), baseline: summary(runs.baseline), target: 15 };
}

export async function main(argv = process.argv.slice(2)) {
  const quick = argv.includes("--quick");
  const { pinned: wasPinned, rows } = await measureTransport({ quick });
  const cold = await measureColdImport({ quick });
  if (argv.includes("--json")) {
    console.log(JSON.stringify({ rows, coldImport: cold }, null, 2));
    return;
  }
  printTable(
    `SDK transport (req/s; baseline: bare undici.request + body.json(), same run; ${wasPinned ? "server on core 0, load on core 1" : "taskset missing: not pinned"})`,
    rows,
  );
  console.log("\nratio: median of per-round ratios over alternating rounds (min–max across rounds).");
  const ms = ({ median: m, min, max }) => `${m.toFixed(1)} ms (${min.toFixed(1)}–${max.toFixed(1)})`;
  console.log(
    `\ncold import('@knify/sdk'): ${ms(cold.sdk)}; import('openapi-fetch') alone: ${ms(cold.baseline)}; ` +
      `target ≤ ${cold.target} ms${cold.sdk.median <= cold.target ? "" : "  MISSED"} (both installed in a temporary app, the SDK from its npm pack tarball; fresh process each, median of alternating runs).`,
  );
}

const loadAt = process.argv.indexOf("--load");
if (loadAt !== -1) {
  load(Number(process.argv[loadAt + 1]), process.argv.includes("--quick")).then(
    (rows) => console.log(JSON.stringify(rows)),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
} else {
  runIfMain(import.meta.url, main);
}
