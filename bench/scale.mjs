// Scale run (issue 10, item 5): authenticated GET /jobs/{id} and POST /jobs throughput of 1, 2 and 3
// `knify-server` replicas on one PostgreSQL database, beside one server on SQLite (the baseline), as ratios
// measured in the same run. Each setup is real processes on loopback, loaded round-robin by one client with
// a fixed number of requests in flight.
//
//   node bench/scale.mjs [--seconds 3] [--concurrency 16] [--json]
//
// Needs PostgreSQL at KNIFY_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test); it creates and
// drops a database of its own. On a 2-core machine expect no speed-up from more replicas: client, replicas and
// database share the cores, so the numbers show the cost per request of each setup, not capacity.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";

const bin = join(import.meta.dirname, "..", "server", "bin", "knify-server.mjs");
const ADMIN_URL = process.env.KNIFY_TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test";

/** Starts `knify-server start` (logging at its default level, as in production) and resolves once it listens. */
function startReplica(id, env) {
  const child = spawn(process.execPath, [bin, "start"], {
    env: { ...process.env, ...env, KNIFY_REPLICA_ID: id, KNIFY_PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = /"url":"([^"]+)".*"msg":"listening"/.exec(output);
      if (!match) return;
      // From here on the output is drained and dropped, so the pipe never fills.
      child.stdout.off("data", onData);
      child.stderr.off("data", onData);
      child.stdout.resume();
      child.stderr.resume();
      child.removeAllListeners("exit");
      resolve({ url: match[1], child });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`replica ${id} exited (${code}): ${output}`)));
  });
}

async function withDatabase(run) {
  const name = `knify_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await run(url.href);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** Starts `count` replicas with `env` (shared data dir), runs `work(urls, adminKey)`, stops them. */
async function withReplicas(count, env, work) {
  const dataDir = mkdtempSync(join(tmpdir(), "knify-bench-"));
  const replicas = [];
  try {
    // The first alone, so that it makes the bootstrap key; the others join the migrated database.
    for (let i = 1; i <= count; i++) replicas.push(await startReplica(`r${i}`, { ...env, KNIFY_DATA_DIR: dataDir }));
    const admin = readFileSync(join(dataDir, "bootstrap-admin-key"), "utf8").trim();
    return await work(
      replicas.map((r) => r.url),
      admin,
    );
  } finally {
    for (const r of replicas) r.child.kill("SIGTERM");
    await Promise.all(replicas.map((r) => new Promise((resolve) => r.child.once("exit", resolve))));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function api(url, method, path, key, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Requests per second of `request(url)` over `seconds`, `concurrency` in flight, round-robin over `urls`. */
async function throughput(urls, seconds, concurrency, request) {
  let done = 0;
  let failed = 0;
  let next = 0;
  const end = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const url = urls[next++ % urls.length];
        const status = await request(url);
        if (status >= 200 && status < 300) done++;
        else failed++;
      }
    }),
  );
  return { perSecond: done / ((Date.now() - started) / 1000), failed };
}

async function measure(label, count, env, options) {
  return withReplicas(count, env, async (urls, admin) => {
    const key = (await api(urls[0], "POST", "/keys", admin, { name: "bench", rate_limit: 1_000_000 })).body.api_key;
    const job = (await api(urls[0], "POST", "/jobs", key, { spec: { job_type: "cursor_task", prompt: "bench" } })).body
      .job_id;
    const get = await throughput(urls, options.seconds, options.concurrency, async (url) => {
      const res = await fetch(`${url}/jobs/${job}`, { headers: { Authorization: `Bearer ${key}` } });
      await res.arrayBuffer();
      return res.status;
    });
    const post = await throughput(urls, options.seconds, options.concurrency, async (url) => {
      const res = await fetch(`${url}/jobs`, {
        method: "POST",
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        body: JSON.stringify({ spec: { job_type: "cursor_task", prompt: "bench" } }),
      });
      await res.arrayBuffer();
      return res.status;
    });
    return { label, replicas: count, get, post };
  });
}

export async function main(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string", default: "3" },
      concurrency: { type: "string", default: "16" },
      json: { type: "boolean", default: false },
    },
  });
  const options = { seconds: Number(values.seconds), concurrency: Number(values.concurrency) };
  // Simulated turns finish at once and the rate limit is out of the way: what is measured is the request path.
  const common = { KNIFY_SIMULATOR_DELAY_MS: "0", KNIFY_RATE_LIMIT_LIVE: "1000000" };
  const rows = [await measure("SQLite, 1 server (baseline)", 1, common, options)];
  await withDatabase(async (url) => {
    for (const count of [1, 2, 3]) {
      rows.push(
        await measure(
          `PostgreSQL, ${count} replica${count > 1 ? "s" : ""}`,
          count,
          { ...common, KNIFY_DATABASE_URL: url },
          options,
        ),
      );
      // Each setup starts from an empty database, so that table sizes do not favour the first.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
      await client.end();
    }
  });
  const base = rows[0];
  if (values.json) {
    console.log(JSON.stringify(rows, null, 2));
    return rows;
  }
  console.log(
    `${options.seconds} s per measurement, ${options.concurrency} requests in flight, round-robin over the replicas\n`,
  );
  console.log("setup                         GET /jobs/{id} req/s  × baseline   POST /jobs req/s  × baseline   failed");
  for (const row of rows) {
    console.log(
      `${row.label.padEnd(30)}${row.get.perSecond.toFixed(0).padStart(20)}${(row.get.perSecond / base.get.perSecond).toFixed(2).padStart(12)}` +
        `${row.post.perSecond.toFixed(0).padStart(19)}${(row.post.perSecond / base.post.perSecond).toFixed(2).padStart(12)}` +
        `${String(row.get.failed + row.post.failed).padStart(9)}`,
    );
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
