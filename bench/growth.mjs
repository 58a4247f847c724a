// Growth bench (issue 11, item 4): does a request get slower as the store fills? Latency of GET /jobs (first
// page and a deep page), GET /jobs/{id}, GET /jobs/{id}/events and GET /keys/verify on one real knify-server
// (SQLite) holding 1k, then 100k, then 1M jobs, with 100k keys throughout. The baseline of each figure is
// the same request on the smallest store, measured in the same run: flat means every ratio ≤ 1.5×.
//
//   node bench/growth.mjs [--quick] [--json]
//
// The store is seeded directly in SQLite with set-based INSERT … SELECT statements (a real job made through
// the API, its row and events cloned; keys made with the real key format and hash), not through the API,
// which would take hours for 1M jobs. The server runs pinned to core 0, this process to core 1.

import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasTaskset, median, printColumns, runIfMain } from "./harness.mjs";
import { startPinned } from "./server.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const BIN = join(HERE, "..", "server", "bin", "knify-server.mjs");
const WORKSPACE = "ws_growth";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const sha256Hex = (text) => createHash("sha256").update(text).digest("hex");

/** A key in the real format (`knify_live_` + 32 base62 + `_` + checksum), and the hash the store keeps. */
function apiKey() {
  let random = "";
  for (const byte of randomBytes(32)) random += BASE62[byte % 62];
  const body = `knify_live_${random}`;
  const key = `${body}_${sha256Hex(body).slice(0, 6)}`;
  return { key, hash: sha256Hex(key), prefix: `knify_live_${random.slice(0, 4)}` };
}

/** Ids that sort before every real (ULID) id, numbered so a page boundary can be named: `job_0…0042`. */
const seededId = (prefix, n) => `${prefix}_0${String(n).padStart(25, "0")}`;

/** `INSERT INTO table SELECT …`: the rows `where` matches, once for each n in [from, to), with `idColumn` replaced. */
function cloneRows(db, table, idColumn, idExpr, where, template, from, to) {
  const columns = db
    .prepare(`PRAGMA table_info(${table})`)
    .all()
    .map((c) => c.name);
  const select = columns.map((c) => (c === idColumn ? idExpr : `t.${c}`)).join(", ");
  db.prepare(
    `INSERT INTO ${table} (${columns.join(", ")})
     WITH RECURSIVE seq(n) AS (SELECT @from UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < @to)
     SELECT ${select} FROM seq, ${table} t WHERE ${where}`,
  ).run({ template, from, to });
}

/** Sequential requests on one keep-alive connection: median and p99 latency in ms. */
async function latency(pool, requests, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const { method = "GET", path, headers } = requests(i);
    const t = performance.now();
    const { statusCode, body } = await pool.request({ method, path, headers });
    await body.arrayBuffer();
    times.push(performance.now() - t);
    if (statusCode !== 200) throw new Error(`${path} answered ${statusCode}`);
  }
  times.sort((a, b) => a - b);
  return { median: median(times), p99: times[Math.floor(times.length * 0.99)] };
}

/** VmRSS of a process, in bytes (Linux; 0 elsewhere). */
function rssOf(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

export async function measureGrowth({ quick = false } = {}) {
  const sizes = quick ? [100, 1_000] : [1_000, 100_000, 1_000_000];
  const keyCount = quick ? 1_000 : 100_000;
  const rounds = quick ? 2 : 5;
  const samples = quick ? 10 : 60;
  const useTaskset = hasTaskset();
  if (useTaskset) execFileSync("taskset", ["-apc", "1", String(process.pid)], { stdio: "ignore" });
  const root = mkdtempSync(join(tmpdir(), "knify-bench-growth-"));
  const envOf = (dir) => ({ ...process.env, KNIFY_DATA_DIR: dir, KNIFY_PORT: "0", KNIFY_SIMULATOR_DELAY_MS: "10" });
  const undici = await import("undici");
  const { default: Database } = await import("better-sqlite3");
  const servers = [];
  const start = async (dir) => {
    const server = await startPinned([BIN, "start"], envOf(dir), useTaskset, /"url":"([^"]+)".*"msg":"listening"/);
    servers.push(server);
    return { ...server, pool: new undici.Pool(server.url, { connections: 1 }) };
  };
  const stop = async (server) => {
    await server.pool.close();
    const exited = once(server.child, "exit");
    server.child.kill("SIGTERM");
    await exited;
    servers.splice(servers.indexOf(server), 1);
  };
  try {
    const first = join(root, "template");
    const made = JSON.parse(
      execFileSync(
        process.execPath,
        [BIN, "keys", "create", "--name", "growth", "--workspace", WORKSPACE, "--rate-limit", "1000000", "--init"],
        { env: envOf(first), encoding: "utf8" },
      ),
    );
    const headers = { authorization: `Bearer ${made.api_key}`, "content-type": "application/json" };
    // The template: a real job, made and finished by the server, whose row and events every seeded job copies.
    const maker = await start(first);
    const created = await maker.pool.request({
      method: "POST",
      path: "/jobs",
      headers,
      body: JSON.stringify({ spec: { job_type: "cursor_task", prompt: "growth" } }),
    });
    const { job_id: template } = await created.body.json();
    for (let status = ""; status !== "completed"; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const reply = await maker.pool.request({ method: "GET", path: `/jobs/${template}`, headers });
      status = (await reply.body.json()).status;
    }
    await stop(maker);

    // 100k keys in the real format, in every store; each request verifies a key not used before, so none is
    // served from the key cache.
    const keys = Array.from({ length: keyCount }, apiKey);
    const db = new Database(join(first, "knify.db"));
    const insertKey = db.prepare(
      `INSERT INTO keys (id, name, type, prefix, workspace_id, permissions, rate_limit, created_at)
       VALUES (?, 'seeded', 'live', ?, ?, '["jobs:read"]', 1000, ?)`,
    );
    const insertSecret = db.prepare("INSERT INTO key_secrets (secret_hash, key_id, created_at) VALUES (?, ?, ?)");
    db.transaction(() => {
      keys.forEach((k, n) => {
        insertKey.run(seededId("key", n), k.prefix, WORKSPACE, Date.now());
        insertSecret.run(k.hash, seededId("key", n), Date.now());
      });
    })();
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.close();

    // One store per size, all served at once, so every round measures each size on the same machine load.
    const stores = [];
    for (const size of sizes) {
      const dir = join(root, `jobs-${size}`);
      mkdirSync(dir);
      copyFileSync(join(first, "knify.db"), join(dir, "knify.db"));
      const seeding = new Database(join(dir, "knify.db"));
      seeding.transaction(() => {
        const id = `'job_0' || printf('%025d', n)`;
        cloneRows(seeding, "jobs", "id", id, "t.id = @template", template, 0, size - 1);
        cloneRows(seeding, "job_events", "job_id", id, "t.job_id = @template", template, 0, size - 1);
      })();
      seeding.pragma("wal_checkpoint(TRUNCATE)");
      seeding.close();
      const server = await start(dir);
      // Right after it listens: start-up (the orphan-sandbox sweep included) must not grow with the job count.
      stores.push({ size, server, startRss: rssOf(server.child.pid) });
    }

    let nextKey = 0;
    const ops = (size) => [
      ["GET /jobs (first page)", () => ({ path: "/jobs?limit=20", headers })],
      [
        "GET /jobs (deep page)",
        () => ({
          path: `/jobs?limit=20&cursor=${Buffer.from(seededId("job", Math.floor(size / 2))).toString("base64url")}`,
          headers,
        }),
      ],
      ["GET /jobs/{id}", (i) => ({ path: `/jobs/${seededId("job", (i * 7919) % (size - 1))}`, headers })],
      ["GET /jobs/{id}/events", (i) => ({ path: `/jobs/${seededId("job", (i * 7919) % (size - 1))}/events`, headers })],
      [
        "GET /keys/verify (unused key)",
        () => ({ path: "/keys/verify", headers: { authorization: `Bearer ${keys[nextKey++ % keys.length].key}` } }),
      ],
    ];
    for (const { size, server } of stores) for (const [, request] of ops(size)) await latency(server.pool, request, 5);
    // medians[name][size] = every round's median; ratios[name] = every round's largest / smallest.
    const medians = new Map();
    const ratios = new Map();
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? stores : [...stores].reverse();
      const thisRound = new Map();
      for (const { size, server } of order) {
        for (const [name, request] of ops(size)) {
          const { median: m } = await latency(server.pool, request, samples);
          if (!medians.has(name)) medians.set(name, new Map());
          if (!medians.get(name).has(size)) medians.get(name).set(size, []);
          medians.get(name).get(size).push(m);
          thisRound.set(`${name}@${size}`, m);
        }
      }
      for (const [name] of ops(0)) {
        if (!ratios.has(name)) ratios.set(name, []);
        ratios.get(name).push(thisRound.get(`${name}@${sizes.at(-1)}`) / thisRound.get(`${name}@${sizes[0]}`));
      }
    }
    const rss = stores.map(({ size, server, startRss }) => ({
      size,
      atStart: startRss,
      bytes: rssOf(server.child.pid),
    }));
    const rows = [...medians].map(([name, bySize]) => {
      const r = ratios.get(name);
      return {
        name,
        bySize: sizes.map((size) => ({ size, median: median(bySize.get(size)) })),
        // A latency: lower is better, so the candidate (largest store) over the baseline (smallest) should stay ≤ 1.5.
        result: {
          candidate: median(bySize.get(sizes.at(-1))),
          baseline: median(bySize.get(sizes[0])),
          ratio: median(r),
          min: Math.min(...r),
          max: Math.max(...r),
        },
        target: 1.5,
      };
    });
    for (const store of stores) await stop(store.server);
    return { pinned: useTaskset, sizes, keyCount, rows, rss };
  } finally {
    for (const server of servers) server.child.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
  }
}

export async function main(argv = process.argv.slice(2)) {
  const quick = argv.includes("--quick");
  const report = await measureGrowth({ quick });
  if (argv.includes("--json")) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const { pinned, sizes, keyCount, rows, rss } = report;
  const count = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
  console.log(
    `Growth: median latency in ms, one connection, ${count(keyCount)} keys in every store; ratio = largest store / smallest, median of alternating rounds (min–max) (${pinned ? "servers on core 0, load on core 1" : "taskset missing: not pinned"})\n`,
  );
  printColumns(
    ["request", ...sizes.map((size) => `${count(size)} jobs`), `${count(sizes.at(-1))} / ${count(sizes[0])}`, "target"],
    rows.map(({ name, bySize, result, target }) => [
      name,
      ...bySize.map(({ median: m }) => m.toFixed(2)),
      `${result.ratio.toFixed(2)}× (${result.min.toFixed(2)}–${result.max.toFixed(2)})`,
      `≤ ${target}×${result.ratio <= target ? "" : "  MISSED"}`,
    ]),
  );
  const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  console.log(
    `\nServer RSS at start: ${rss.map(({ size, atStart }) => `${count(size)} jobs ${mib(atStart)}`).join(", ")}; after the runs: ${rss.map(({ size, bytes }) => `${count(size)} jobs ${mib(bytes)}`).join(", ")}`,
  );
}

runIfMain(import.meta.url, main);
