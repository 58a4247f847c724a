/** A `fetch`-compatible function: the global `fetch`, undici's, or a test double. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * An undici dispatcher (`Agent`, `ProxyAgent`, `Pool`, `MockAgent`, …), described by the two methods the SDK
 * relies on so that neither undici's types nor `@types/node` are needed to use the SDK's declarations.
 */
export interface Dispatcher {
  dispatch(options: object, handler: object): boolean;
  close(): Promise<void>;
}

/** Milliseconds since the Unix epoch; inject a fake one in tests. */
export interface Clock {
  now(): number;
}

/** Waits `ms` milliseconds; rejects with the signal's reason when it aborts. Inject a fake one in tests. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** How much the client logs. `"off"` silences it; each level includes the ones after it. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "off";

/** Where log lines go; `console` fits. Secrets are redacted before a line reaches it. */
export interface Logger {
  debug(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

/** Options of {@link KnifyClient}. Every one has a default. */
export interface ClientOptions {
  /** The API key (`knify_live_…` or `knify_test_…`). Default: the `KNIFY_API_KEY` environment variable. */
  apiKey?: string | undefined;
  /** Default: the `KNIFY_BASE_URL` environment variable, else `https://api.knify.io`. */
  baseURL?: string | undefined;
  /**
   * The workspace of operations that take a `workspace_id` when the call names none (`keys.create`,
   * `webhookEndpoints.create`, `workspaces.get/replace/delete`). Default: the `KNIFY_WORKSPACE_ID`
   * environment variable (Knify's docs put it in `.env` next to `KNIFY_API_KEY`).
   */
  workspaceId?: string | undefined;
  /**
   * Milliseconds one attempt may take until the response headers arrive, and (in Node) the longest silence
   * between two chunks of a response body. Default 60000.
   */
  timeout?: number | undefined;
  /** Milliseconds one call may take across all its attempts and waits. Default: no deadline. */
  deadline?: number | undefined;
  /** Retries after the first attempt, for connection errors, timeouts, 408, 429 and 5xx. Default 2. */
  maxRetries?: number | undefined;
  /** Headers sent with every request (they override the SDK's own, `Authorization` included). */
  defaultHeaders?: Record<string, string> | undefined;
  /**
   * The fetch to use. Default in Node: undici's `request` on the client's dispatcher, unless `globalThis.fetch`
   * is no longer Node's own (msw, nock and the like patch it), in which case that is used; elsewhere
   * `globalThis.fetch`. Both are looked up on every request, so a patch made after the client exists counts.
   */
  fetch?: FetchLike | undefined;
  /**
   * Node: the undici dispatcher for requests, e.g. `new ProxyAgent(url)` for a proxy or
   * `new Agent({ connections: 8, keepAliveTimeout: 10_000 })`. Default: an `Agent` the client owns and
   * `client.close()` closes; a dispatcher you pass stays yours to close. Also given to `fetch` when the
   * request goes through it. undici's global dispatcher (`setGlobalDispatcher`) is not consulted: pass it
   * here (`dispatcher: getGlobalDispatcher()`) to share it.
   */
  dispatcher?: Dispatcher | undefined;
  /**
   * Extra fields spread into every fetch init, e.g. `{ dispatcher: new undici.Agent() }`. Typed loosely on
   * purpose: undici 7's `Dispatcher` type does not match the one bundled with `@types/node` (toolchain trap 5).
   */
  fetchOptions?: Record<string, unknown> | undefined;
  /** Default: `console`. */
  logger?: Logger | undefined;
  /** Default `"warn"`. */
  logLevel?: LogLevel | undefined;
  /** Time source for retries, deadlines and `jobs.waitFor`. Default: `Date`. */
  clock?: Clock | undefined;
  /** Waits between retries and polls. Default: a `setTimeout` that honours an `AbortSignal`. */
  sleep?: Sleep | undefined;
  /** Jitter source in [0, 1). Default: `Math.random`. */
  random?: (() => number) | undefined;
}

/** Per-call options, accepted as the last argument of every method. They override the client's. */
export interface RequestOptions {
  /** Aborts the call (and its retries); the call then rejects with `APIUserAbortError`. */
  signal?: AbortSignal | undefined;
  /** See {@link ClientOptions.timeout}. */
  timeout?: number | undefined;
  /** See {@link ClientOptions.deadline}. */
  deadline?: number | undefined;
  /** See {@link ClientOptions.maxRetries}. */
  maxRetries?: number | undefined;
  /** Extra headers for this call only. */
  headers?: Record<string, string> | undefined;
  /** The `Idempotency-Key` of a POST. Default: `knify-retry-<uuid>`, the same on every retry of the call. */
  idempotencyKey?: string | undefined;
}
