// Instructions per request (issue 11, item 1): the knify server and bare Koa each run under valgrind's
// callgrind, which counts the machine instructions a process executes. Unlike seconds, the count is the same
// whatever else this shared machine is doing, so it tells a change of a few percent apart where the rates of
// bench/server.mjs cannot. It counts only the server's own work per request (the kernel's is not in it).
//
//   node bench/instructions.mjs [--quick] [--json]
//
// Per path, both servers get the same warm-up, then instrumentation is switched on (`callgrind_control -i on`)
// for the measured requests only, and the dump's total is divided by their number. Needs valgrind (Debian's
// package); without it the bench says so and measures nothing.

import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { printColumns, runIfMain } from "./harness.mjs";
import { benchKeyHeaders, startNode } from "./server.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const BIN = process.env.KNIFY_BENCH_SERVER_BIN ?? join(HERE, "..", "server", "bin", "knify-server.mjs");
const CONNECTIONS = 10;

function hasValgrind() {
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
    execFileSync("callgrind_control", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** `node args…` under callgrind with instrumentation off, its output files named `<name>.<pid>` in `outDir`. */
async function startCounted(args, env, outDir, name, pattern) {
  const valgrind = [
    "valgrind",
    "--tool=callgrind",
    "--instr-atstart=no",
    `--callgrind-out-file=${join(outDir, name)}.%p`,
  ];
  return { ...(await startNode(valgrind, args, env, pattern)), name };
}

/** Instructions the server executed while `run` ran: zeroed, switched on, run, switched off, dumped, read. */
async function counted(server, outDir, run) {
  const pid = String(server.child.pid);
  const before = new Set(readdirSync(outDir));
  execFileSync("callgrind_control", ["--zero", pid], { stdio: "ignore" });
  execFileSync("callgrind_control", ["--instr=on", pid], { stdio: "ignore" });
  await run();
  execFileSync("callgrind_control", ["--instr=off", pid], { stdio: "ignore" });
  execFileSync("callgrind_control", ["--dump", pid], { stdio: "ignore" });
  let total = 0;
  for (const file of readdirSync(outDir)) {
    if (before.has(file) || !file.startsWith(`${server.name}.`)) continue;
    const match = /^totals: (\d+)/m.exec(readFileSync(join(outDir, file), "utf8"));
    if (match) total += Number(match[1]);
  }
  if (total === 0) throw new Error(`callgrind reported no instructions for ${server.name}`);
  return total;
}

export async function measureInstructions({ quick = false } = {}) {
  if (!hasValgrind()) return { skipped: "valgrind is not installed (Debian: apt-get install valgrind)", rows: [] };
  const dataDir = mkdtempSync(join(tmpdir(), "knify-bench-instr-"));
  const outDir = mkdtempSync(join(tmpdir(), "knify-bench-callgrind-"));
  const env = { ...process.env, KNIFY_DATA_DIR: dataDir, KNIFY_PORT: "0" };
  const children = [];
  const undici = await import("undici");
  try {
    const headers = benchKeyHeaders(BIN, env);
    const knify = await startCounted([BIN, "start"], env, outDir, "knify", /"url":"([^"]+)".*"msg":"listening"/);
    children.push(knify.child);
    const body = JSON.stringify({ spec: { job_type: "cursor_task", prompt: "bench" } });
    const made = await (await undici.request(`${knify.url}/jobs`, { method: "POST", headers, body })).body.json();
    const job = await (await undici.request(`${knify.url}/jobs/${made.job_id}`, { headers })).body.json();
    const verified = await (await undici.request(`${knify.url}/keys/verify`, { headers })).body.json();
    const routes = { [`GET /jobs/${made.job_id}`]: [200, job], "GET /keys/verify": [200, verified] };
    const bare = await startCounted(
      [`${HERE}bare-koa.mjs`, JSON.stringify(routes)],
      env,
      outDir,
      "bare",
      /^(http:\S+)/m,
    );
    children.push(bare.child);

    const warm = quick ? 100 : 4000;
    const measured = quick ? 50 : 2000;
    const rows = [];
    for (const { name, path, target } of [
      { name: "GET /jobs/{id}", path: `/jobs/${made.job_id}`, target: 0.5 },
      { name: "GET /keys/verify", path: "/keys/verify" },
    ]) {
      const perRequest = {};
      for (const server of [knify, bare]) {
        const pool = new undici.Pool(server.url, { connections: CONNECTIONS });
        const run = async (total) => {
          let left = total;
          await Promise.all(
            Array.from({ length: CONNECTIONS }, async () => {
              while (left-- > 0) {
                const reply = await pool.request({ method: "GET", path, headers });
                await reply.body.text();
                if (reply.statusCode !== 200) throw new Error(`${server.name} ${path} answered ${reply.statusCode}`);
              }
            }),
          );
        };
        await run(warm);
        perRequest[server.name] = (await counted(server, outDir, () => run(measured))) / measured;
        await pool.close();
      }
      rows.push({
        name: `${name}, ${CONNECTIONS} connections`,
        ours: perRequest.knify,
        baseline: perRequest.bare,
        // Like every ratio of the benches: baseline / ours, higher is better.
        ratio: perRequest.bare / perRequest.knify,
        ...(target ? { target } : {}),
      });
    }
    return { rows };
  } finally {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((child) => (child.exitCode === null ? once(child, "exit") : null)));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  }
}

export async function main(argv = process.argv.slice(2)) {
  const report = await measureInstructions({ quick: argv.includes("--quick") });
  if (argv.includes("--json")) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  if (report.skipped) {
    console.log(`Instructions per request: skipped, ${report.skipped}.`);
    return;
  }
  console.log("Instructions per request under callgrind (baseline: bare Koa answering the same object, same run)\n");
  printColumns(
    ["path", "ours", "baseline", "ratio", "target"],
    report.rows.map(({ name, ours, baseline, ratio, target }) => [
      name,
      `${Math.round(ours / 1000)}k instr`,
      `${Math.round(baseline / 1000)}k instr`,
      `${ratio.toFixed(2)}×`,
      target === undefined ? "-" : `≥ ${target}×${ratio >= target ? "" : "  MISSED"}`,
    ]),
  );
}

runIfMain(import.meta.url, main);
