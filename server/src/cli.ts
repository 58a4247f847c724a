import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ADMIN, allPermissions, isPermission, type Permission } from "./auth/permissions.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig } from "./config.js";
import { PATTERNS } from "./generated/constants.js";
import { ProblemError } from "./http/problem.js";
import { createKey, rotateKey } from "./keys/create-key.js";
import { presentKey } from "./keys/present.js";
import { openStore } from "./store/open.js";
import type { Store } from "./store/store.js";
import { iso } from "./timestamps.js";

const USAGE = `Usage:
  knify-server start
  knify-server keys create --name NAME [--workspace ws_…] [--permissions a,b] [--type live|test] [--rate-limit N] [--expires-at ISO] [--init]
  knify-server keys list [--json]
  knify-server keys revoke KEY_ID
  knify-server keys rotate KEY_ID [--grace-seconds N]
  knify-server --help | --version

The server and these commands use the store under KNIFY_DATA_DIR (default ./data, from the current
directory), KNIFY_DATABASE, or PostgreSQL at KNIFY_DATABASE_URL. A keys command refuses to create a new,
empty SQLite store (a key in it would be refused by the server running elsewhere) unless --init is given.`;

class UsageError extends Error {}

const WORKSPACE_ID = new RegExp(PATTERNS.WorkspaceIdValue, "u");
/** Where the first start leaves the bootstrap admin key, in the data dir. */
export const BOOTSTRAP_KEY_FILE = "bootstrap-admin-key";

/** Runs one command; returns the process exit code. Errors go to stderr as one clear line. */
export async function main(argv: string[]): Promise<number> {
  try {
    const [command, sub, ...rest] = argv;
    if (command === "help" || argv.some(isHelp)) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (command === "--version" || command === "-v") {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    if (command === "start") return await start();
    if (command === "keys" && sub) return await keys(sub, rest);
    throw new UsageError(command ? `Unknown command "${argv.join(" ")}".` : "No command given.");
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`knify-server: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`knify-server: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`knify-server: ${(error as Error).message}\n`);
    return 1;
  }
}

async function start(): Promise<number> {
  const config = loadConfig();
  // Loaded here, not at the top: the key commands never need Koa, undici or the logger, and start faster without them.
  const [{ createLogger }, { startServer }] = await Promise.all([import("./logger.js"), import("./server.js")]);
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, logger);
  // First start on an empty store: one admin key, written to a 0600 file in the data dir and shown on
  // the terminal, but never to a captured stdout (a service manager's journal or a CI log would keep it).
  // Created with a cap of one workspace-less key, so replicas starting together on one database make one.
  const bootstrap =
    (await server.store.keys.count()) === 0
      ? await createKey(server.store, config, systemClock.now(), {
          name: "Bootstrap admin key",
          permissions: [ADMIN],
          maxUnrevokedInWorkspace: 1,
        }).catch((error: unknown) => {
          if (error instanceof ProblemError && error.code === "key_limit_reached") return null;
          throw error;
        })
      : null;
  if (bootstrap) {
    const { key, apiKey } = bootstrap;
    const file = join(config.dataDir, BOOTSTRAP_KEY_FILE);
    writeFileSync(file, `${apiKey}\n`, { mode: 0o600, flag: "w" });
    chmodSync(file, 0o600); // the mode of writeFileSync applies only when it creates the file
    const shown = process.stdout.isTTY
      ? `\n\n  ${apiKey}\n\nand written to ${file} (mode 0600)`
      : ` in ${file} (mode 0600)`;
    process.stdout.write(
      `\nKnify server: first start on an empty store. Bootstrap admin key (admin:all) ${key.id}${shown}.\n` +
        "Keep it somewhere safe and delete the file. " +
        `Make more keys with: npx knify-server keys create --name "My key" --workspace ws_my_team\n` +
        `or: curl -X POST ${server.url}/keys -H "Authorization: Bearer $ADMIN_API_KEY" -H "Content-Type: application/json" -d '{"name":"My key"}'\n\n`,
    );
  }
  logger.info({ url: server.url, data_dir: config.dataDir, version: config.version }, "listening");
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "shutting down");
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  logger.info("stopped");
  return 0;
}

const isHelp = (arg: string | undefined) => arg === "--help" || arg === "-h";

/** The server package's version (server/package.json), read only when asked. */
function packageVersion(): string {
  const file = join(import.meta.dirname, "..", "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

/**
 * Opens the configured store for a keys command. A missing SQLite file means the command runs against
 * another store than the server (another directory, another KNIFY_DATA_DIR): creating a fresh one would
 * print a key the server then refuses with 401, so that needs `--init`.
 */
async function withStore<T>(
  run: (store: Store, config: ReturnType<typeof loadConfig>) => Promise<T>,
  init = false,
): Promise<T> {
  const config = loadConfig();
  if (config.databaseUrl === null && !init && !existsSync(config.databasePath)) {
    throw new Error(
      `There is no store at ${config.databasePath}. Run this from the directory the server runs in, or set ` +
        "KNIFY_DATA_DIR (or KNIFY_DATABASE / KNIFY_DATABASE_URL) to the server's; " +
        "pass --init to create a new, empty store there.",
    );
  }
  const store = await openStore(config);
  try {
    return await run(store, config);
  } finally {
    await store.close();
  }
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

async function keys(sub: string, argv: string[]): Promise<number> {
  if (sub === "create") {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        name: { type: "string" },
        workspace: { type: "string" },
        permissions: { type: "string" },
        type: { type: "string" },
        "rate-limit": { type: "string" },
        "expires-at": { type: "string" },
        init: { type: "boolean" },
      },
    });
    const { init, ...flags } = values;
    const input = parseCreate(flags);
    return withStore(async (store, config) => {
      const { key, apiKey } = await createKey(store, config, systemClock.now(), input);
      // The seed documents exactly these first five fields; the rest are extras.
      print({
        key_id: key.id,
        api_key: apiKey,
        name: key.name,
        workspace_id: key.workspaceId,
        created_at: iso(key.createdAt),
        type: key.type,
        permissions: key.permissions,
        rate_limit: key.rateLimit,
      });
      return 0;
    }, init === true);
  }
  if (sub === "list") {
    const { values } = parseArgs({ args: argv, strict: true, options: { json: { type: "boolean" } } });
    return withStore(async (store) => {
      const keys = (await store.keys.list({ limit: 1_000_000 })).map(presentKey);
      if (values.json) print(keys);
      else process.stdout.write(keyTable(keys));
      return 0;
    });
  }
  if (sub === "revoke") {
    const { positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: {} });
    const id = onlyId(positionals);
    return withStore(async (store) => {
      const key = await store.keys.revoke(id, systemClock.now());
      if (!key) throw new Error(`There is no key ${id}.`);
      print(presentKey(key));
      return 0;
    });
  }
  if (sub === "rotate") {
    const { positionals, values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { "grace-seconds": { type: "string" } },
    });
    const id = onlyId(positionals);
    return withStore(async (store, config) => {
      const grace = wholeNumber(
        values["grace-seconds"] ?? "86400",
        "--grace-seconds",
        0,
        config.maxRotationGraceSeconds,
      );
      const key = await store.keys.get(id);
      if (!key) throw new Error(`There is no key ${id}.`);
      const rotated = await rotateKey(store, key, systemClock.now(), grace);
      if (!rotated) throw new Error(`There is no key ${id}.`);
      print(rotated);
      return 0;
    });
  }
  throw new UsageError(`Unknown command "keys ${sub}".`);
}

type PresentedKey = ReturnType<typeof presentKey>;

/** `keys list` for a person: one aligned row per key, the columns an operator scans for. */
function keyTable(keys: PresentedKey[]): string {
  if (keys.length === 0) return "No keys.\n";
  const header = ["KEY_ID", "NAME", "TYPE", "WORKSPACE", "PERMISSIONS", "RATE_LIMIT", "LAST_USED", "STATUS"];
  const rows = keys.map((k) => [
    k.key_id,
    k.name,
    k.type,
    k.workspace_id ?? "-",
    k.permissions.join(","),
    String(k.rate_limit),
    k.last_used ?? "never",
    k.revoked_at ? "revoked" : k.expires_at && Date.parse(k.expires_at) <= Date.now() ? "expired" : "active",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return `${[header, ...rows].map(line).join("\n")}\n`;
}

function onlyId(positionals: string[]): string {
  const [id, extra] = positionals;
  if (!id || extra !== undefined || !/^key_[A-Za-z0-9]{1,64}$/.test(id)) {
    throw new UsageError("Give exactly one key id (key_…).");
  }
  return id;
}

function wholeNumber(raw: string, flag: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}.`);
  return n;
}

function parseCreate(values: Record<string, string | undefined>) {
  const name = values.name?.trim();
  if (!name) throw new UsageError('--name is required, e.g. --name "Production API Key".');
  if (name.length > 200) throw new UsageError("--name must be at most 200 characters.");
  const workspace = values.workspace;
  if (workspace !== undefined && !WORKSPACE_ID.test(workspace)) {
    throw new UsageError(
      `--workspace must be a workspace id like ws_abc123 (ws_ + letters, digits, _); got "${workspace}".`,
    );
  }
  let permissions: Permission[] | undefined;
  if (values.permissions !== undefined) {
    const list = values.permissions
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    const unknown = list.filter((p) => !isPermission(p));
    if (list.length === 0 || unknown.length > 0) {
      throw new UsageError(
        `Unknown permission${unknown.length === 1 ? "" : "s"}: ${unknown.join(", ") || "(none given)"}. Known: ${allPermissions.join(", ")}.`,
      );
    }
    permissions = list as Permission[];
  }
  const type = values.type ?? "live";
  if (type !== "live" && type !== "test") throw new UsageError(`--type must be live or test; got "${type}".`);
  let expiresAt: number | null = null;
  if (values["expires-at"] !== undefined) {
    expiresAt = Date.parse(values["expires-at"]);
    if (Number.isNaN(expiresAt) || expiresAt <= Date.now())
      throw new UsageError("--expires-at must be a future ISO-8601 time.");
  }
  return {
    name,
    type,
    workspaceId: workspace ?? null,
    expiresAt,
    ...(permissions ? { permissions } : {}),
    ...(values["rate-limit"] !== undefined
      ? { rateLimit: wholeNumber(values["rate-limit"], "--rate-limit", 1, 1_000_000) }
      : {}),
  } as const;
}
