import { ConfigError, envInteger } from "../settings.js";

/** The webhooks feature's settings, read from its own `KNIFY_WEBHOOK_*` variables. */
export interface WebhookSettings {
  /** `KNIFY_WEBHOOK_ALLOW_PRIVATE=1`: allow private, loopback and link-local targets (local development). */
  allowPrivate: boolean;
  /** Delay before each retry after a failed attempt, in ms; when used up, the delivery fails. */
  retryScheduleMs: number[];
  /** Each retry delay is drawn uniformly within ±this fraction of its nominal value. */
  jitter: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** How often the worker looks for due deliveries (it is also woken at once by enqueues in this process). */
  pollIntervalMs: number;
  /** Most deliveries in flight at once per server. */
  concurrency: number;
  /** Most deliveries of one workspace, and of one endpoint, in flight at once (all replicas together). */
  fairness: { perWorkspace: number; perEndpoint: number };
  /** Most endpoints one workspace may register. */
  maxEndpointsPerWorkspace: number;
  /** On shutdown, how long attempts in flight may finish before they are aborted (and sent again after restart). */
  shutdownGraceMs: number;
  /** How long a claimed delivery stays leased to this server before another replica may take it over. */
  leaseMs: number;
}

/** 5 s, 30 s, 2 min, 10 min, 1 h, 6 h: seven attempts over about 7 h 13 min, then `failed`. */
export const DEFAULT_RETRY_SCHEDULE_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000];

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "" || raw === "0" || raw === "false") return false;
  if (raw === "1" || raw === "true") return true;
  throw new ConfigError(`${name} must be 1 or 0 (true or false); got ${JSON.stringify(raw)}.`);
}

function schedule(env: NodeJS.ProcessEnv, name: string): number[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return DEFAULT_RETRY_SCHEDULE_MS;
  const parts = raw.split(",").map((part) => part.trim());
  const values = parts.map(Number);
  if (
    parts.length > 50 ||
    values.some((v, i) => parts[i] === "" || !Number.isInteger(v) || v < 1 || v > 7 * 86_400_000)
  ) {
    throw new ConfigError(
      `${name} must be a comma-separated list of at most 50 delays in milliseconds (1 to 604800000 each), ` +
        `e.g. "5000,30000,120000"; got ${JSON.stringify(raw)}.`,
    );
  }
  return values;
}

/**
 * Reads and validates the webhook settings; throws a {@link ConfigError} naming the bad variable.
 * @example const settings = loadWebhookSettings(process.env);
 */
export function loadWebhookSettings(env: NodeJS.ProcessEnv): WebhookSettings {
  const connectTimeoutMs = envInteger(env, "KNIFY_WEBHOOK_CONNECT_TIMEOUT_MS", 5_000, 100, 600_000);
  const headersTimeoutMs = envInteger(env, "KNIFY_WEBHOOK_HEADERS_TIMEOUT_MS", 10_000, 100, 600_000);
  const bodyTimeoutMs = envInteger(env, "KNIFY_WEBHOOK_BODY_TIMEOUT_MS", 10_000, 100, 600_000);
  return {
    allowPrivate: flag(env, "KNIFY_WEBHOOK_ALLOW_PRIVATE"),
    retryScheduleMs: schedule(env, "KNIFY_WEBHOOK_RETRY_SCHEDULE_MS"),
    jitter: 0.2,
    connectTimeoutMs,
    headersTimeoutMs,
    bodyTimeoutMs,
    pollIntervalMs: envInteger(env, "KNIFY_WEBHOOK_POLL_INTERVAL_MS", 250, 10, 60_000),
    concurrency: envInteger(env, "KNIFY_WEBHOOK_CONCURRENCY", 8, 1, 256),
    // Half the slots by default: one tenant's hung receivers leave the other half to everyone else.
    fairness: {
      perWorkspace: envInteger(env, "KNIFY_WEBHOOK_CONCURRENCY_PER_WORKSPACE", 4, 1, 256),
      perEndpoint: envInteger(env, "KNIFY_WEBHOOK_CONCURRENCY_PER_ENDPOINT", 2, 1, 256),
    },
    maxEndpointsPerWorkspace: envInteger(env, "KNIFY_WEBHOOK_MAX_ENDPOINTS", 20, 1, 1000),
    shutdownGraceMs: envInteger(env, "KNIFY_WEBHOOK_SHUTDOWN_GRACE_MS", 2_000, 0, 60_000),
    // Longer than the slowest possible attempt, so a live worker never loses its lease mid-send.
    leaseMs: connectTimeoutMs + headersTimeoutMs + bodyTimeoutMs + 30_000,
  };
}
