import { API_VERSION } from "./generated/constants.js";

// The server's settings, runtime-neutral: what touches the machine (host name, paths) comes in as a
// ConfigHost, so the in-memory API reads the same settings with the same rules (config.ts has Node's).

/** Everything the server reads from its environment, validated once at start. */
export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** SQLite file; `:memory:` in tests. Unused when `databaseUrl` is set. */
  databasePath: string;
  /** `KNIFY_DATABASE_URL`: a PostgreSQL URL (`postgres://…`) that replaces the SQLite file; null for SQLite. */
  databaseUrl: string | null;
  /**
   * `KNIFY_USAGE_FLUSH_MS` (SQLite): how often usage counters kept in memory are written; reads flush first,
   * a clean stop flushes, a SIGKILL loses at most this interval's counts.
   */
  usageFlushMs: number;
  logLevel: string;
  /** Largest JSON body accepted, in bytes. */
  bodyLimitBytes: number;
  /** Open client connections beyond which new ones are closed at once (`server.maxConnections`). */
  maxConnections: number;
  /** Time a client has to send its request headers. */
  headersTimeoutMs: number;
  /** Time a client has to send a JSON body once its headers are in (408 beyond). */
  bodyTimeoutMs: number;
  /**
   * Time a client has to send a whole request; workspace uploads are the longest requests, so this is theirs.
   * Also the lease of an idempotency claim, which the handling process renews while it runs.
   */
  uploadTimeoutMs: number;
  /** Default per-key limits in requests per minute, by key type ("test keys get a lower default"). */
  rateLimits: { live: number; test: number };
  idempotencyTtlMs: number;
  /** Names this process's claims (idempotency, job queue); replicas sharing a database need distinct ids. */
  replicaId: string;
  /**
   * `KNIFY_PUBLIC_URL`: the origin (and base path) clients reach the API at, for absolute `Link` URLs.
   * Null: links are relative references, never built from the client-controlled `Host` header.
   */
  publicUrl: string | null;
  /** The longest grace period a rotated secret may keep working. */
  maxRotationGraceSeconds: number;
  /** Most unrevoked keys one workspace may hold through `POST /keys` (keys without a workspace count together). */
  maxKeysPerWorkspace: number;
  /** Believe `Forwarded` / `X-Forwarded-*` from a reverse proxy (scheme, host, client address). */
  trustProxy: boolean;
  /**
   * `KNIFY_CORS_ORIGINS`: browser origins allowed to call the API from another origin (comma-separated,
   * exact `scheme://host[:port]`, or `*`). Empty by default: no CORS headers at all, so only same-origin pages
   * (the dashboard) and non-browser clients reach the API.
   */
  corsOrigins: string[];
  version: string;
}

export class ConfigError extends Error {}

/** What reading the configuration needs from the machine: Node's in `config.ts`, fixed ones in memory. */
export interface ConfigHost {
  hostname(): string;
  /** An absolute path for a configured (possibly relative) one. */
  resolvePath(...segments: string[]): string;
}

/** `KNIFY_REPLICA_ID`, else the host name: the one place the replica id is read. */
export function replicaIdFrom(env: NodeJS.ProcessEnv, host: Pick<ConfigHost, "hostname">): string {
  return env.KNIFY_REPLICA_ID || host.hostname();
}

function publicUrlFrom(env: NodeJS.ProcessEnv): string | null {
  const raw = env.KNIFY_PUBLIC_URL;
  if (raw === undefined || raw === "") return null;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash || url.username) {
    throw new ConfigError(
      `KNIFY_PUBLIC_URL must be an http(s) URL without query, fragment or credentials, e.g. https://api.example.com; got ${JSON.stringify(raw)}.`,
    );
  }
  return url.href.replace(/\/+$/, "");
}

/** `KNIFY_CORS_ORIGINS`: each entry an origin exactly as a browser sends it in `Origin`, or `*` alone. */
function corsOriginsFrom(env: NodeJS.ProcessEnv): string[] {
  const entries = (env.KNIFY_CORS_ORIGINS ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.includes("*")) {
    if (entries.length > 1)
      throw new ConfigError("KNIFY_CORS_ORIGINS is either * alone or a list of origins, not both.");
    return ["*"];
  }
  for (const entry of entries) {
    let origin: string | undefined;
    try {
      const url = new URL(entry);
      origin = url.protocol === "http:" || url.protocol === "https:" ? url.origin : undefined;
    } catch {
      origin = undefined;
    }
    if (origin !== entry) {
      throw new ConfigError(
        `KNIFY_CORS_ORIGINS entries must be origins such as https://app.example.com (scheme, host and port only, no path or trailing slash); got ${JSON.stringify(entry)}.`,
      );
    }
  }
  return entries;
}

/** `KNIFY_DATABASE_URL`: unset or empty for SQLite; otherwise it must name PostgreSQL. */
function databaseUrlFrom(env: NodeJS.ProcessEnv): string | null {
  const raw = env.KNIFY_DATABASE_URL;
  if (raw === undefined || raw === "") return null;
  let protocol: string | undefined;
  try {
    protocol = new URL(raw).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== "postgres:" && protocol !== "postgresql:") {
    // The value may hold a password: the message names its scheme only, never the URL.
    throw new ConfigError(
      `KNIFY_DATABASE_URL must be a PostgreSQL URL such as postgres://user@host:5432/knify (got a value with scheme ${JSON.stringify(protocol ?? "none")}); leave it unset to use the SQLite file (KNIFY_DATABASE).`,
    );
  }
  return raw;
}

/**
 * A whole-number setting from the environment: the fallback when unset or empty, else a value in
 * [min, max] or a ConfigError naming the variable. Every module reads its numeric KNIFY_* settings here.
 */
export function envInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  // Digits only: Number() would also take "1e3", "0x10" or " 7 ", which a typo should not turn into a setting.
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}.`);
  }
  return value;
}

/** Slow-client limits (#15): each held connection costs a file descriptor, so none may be held for long for free. */
function connectionLimits(env: NodeJS.ProcessEnv) {
  const headersTimeoutMs = envInteger(env, "KNIFY_HEADERS_TIMEOUT_MS", 10_000, 100, 600_000);
  const uploadTimeoutMs = envInteger(env, "KNIFY_UPLOAD_TIMEOUT_MS", 300_000, 100, 3_600_000);
  // Node refuses a headers timeout longer than the request timeout it is part of.
  if (headersTimeoutMs > uploadTimeoutMs) {
    throw new ConfigError(
      `KNIFY_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed KNIFY_UPLOAD_TIMEOUT_MS (${uploadTimeoutMs}).`,
    );
  }
  return {
    maxConnections: envInteger(env, "KNIFY_MAX_CONNECTIONS", 1000, 1, 1_000_000),
    headersTimeoutMs,
    bodyTimeoutMs: envInteger(env, "KNIFY_BODY_TIMEOUT_MS", 30_000, 100, 3_600_000),
    uploadTimeoutMs,
  };
}

/**
 * Reads KNIFY_* variables. See the README's configuration table.
 * @example const config = readConfig(process.env, nodeHost);
 */
export function readConfig(env: NodeJS.ProcessEnv, host: ConfigHost): ServerConfig {
  const dataDir = host.resolvePath(env.KNIFY_DATA_DIR || "./data");
  return {
    host: env.KNIFY_HOST || "127.0.0.1",
    port: envInteger(env, "KNIFY_PORT", 8080, 0, 65535),
    dataDir,
    databasePath: env.KNIFY_DATABASE || host.resolvePath(dataDir, "knify.db"),
    databaseUrl: databaseUrlFrom(env),
    usageFlushMs: envInteger(env, "KNIFY_USAGE_FLUSH_MS", 1000, 0, 3_600_000),
    logLevel: env.KNIFY_LOG_LEVEL || "info",
    bodyLimitBytes: envInteger(env, "KNIFY_BODY_LIMIT_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
    ...connectionLimits(env),
    rateLimits: {
      live: envInteger(env, "KNIFY_RATE_LIMIT_LIVE", 1000, 1, 1_000_000),
      test: envInteger(env, "KNIFY_RATE_LIMIT_TEST", 100, 1, 1_000_000),
    },
    idempotencyTtlMs: 24 * 60 * 60 * 1000,
    replicaId: replicaIdFrom(env, host),
    publicUrl: publicUrlFrom(env),
    maxRotationGraceSeconds: 7 * 24 * 60 * 60,
    maxKeysPerWorkspace: envInteger(env, "KNIFY_MAX_KEYS_PER_WORKSPACE", 100, 1, 100_000),
    trustProxy: envInteger(env, "KNIFY_TRUST_PROXY", 0, 0, 1) === 1,
    corsOrigins: corsOriginsFrom(env),
    version: API_VERSION,
  };
}
