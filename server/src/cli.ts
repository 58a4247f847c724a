import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ADMIN, allPermissions, isPermission, type Permission } from "./auth/permissions.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig } from "./config.js";
import { PATTERNS } from "./generated/constants.js";
import { ProblemError } from "./http/problem.js";
import { createKey, rotateKey } from "./keys/create-key.js";
import { presentKey } from "./keys/present.js";
import { createLogger } from "./logger.js";
import { startServer } from "./server.js";
import { openStore } from "./store/open.js";
import type { Store } from "./store/store.js";
import { iso } from "./timestamps.js";

const USAGE = `Usage:
  knify-server start
  knify-server keys create --name NAME [--workspace ws_…] [--permissions a,b] [--type live|test] [--rate-limit N] [--expires-at ISO]
  knify-server keys list
  knify-server keys revoke KEY_ID
  knify-server keys rotate KEY_ID [--grace-seconds N]

The server and these commands use the store under KNIFY_DATA_DIR (default ./data), or KNIFY_DATABASE.`;

class UsageError extends Error {}

const WORKSPACE_ID = new RegExp(PATTERNS.WorkspaceIdValue, "u");
/** Where the first start leaves the bootstrap admin key, in the data dir. */
export const BOOTSTRAP_KEY_FILE = "bootstrap-admin-key";

/** Runs one command; returns the process exit code. Errors go to stderr as one clear line. */
export async function main(argv: string[]): Promise<number> {
  try {
    const [command, sub, ...rest] = argv;
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

async function withStore<T>(run: (store: Store, config: ReturnType<typeof loadConfig>) => Promise<T>): Promise<T> {
  const config = loadConfig();
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
      },
    });
    const input = parseCreate(values);
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
    });
  }
  if (sub === "list") {
    parseArgs({ args: argv, strict: true, options: {} });
    return withStore(async (store) => {
      print((await store.keys.list({ limit: 1_000_000 })).map(presentKey));
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
