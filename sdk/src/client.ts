import type { APIPromise } from "./core/api-promise.js";
import { CoreClient, type RawRequestOptions } from "./core/core-client.js";
import { KnifyError } from "./core/knify-error.js";
import { LevelLogger } from "./core/log.js";
import type { ClientOptions, LogLevel, RequestOptions } from "./core/options.js";
import type { NativeHttp } from "./core/runtime.js";
import { systemClock, timerSleep } from "./core/sleep.js";
import type { components } from "./generated/schema.js";
import { Jobs } from "./resources/jobs.js";
import { Keys } from "./resources/keys.js";
import { WebhookEndpoints } from "./resources/webhook-endpoints.js";
import { Workspaces } from "./resources/workspaces.js";
import { sign, unwrap, verify } from "./webhooks.js";

const DEFAULT_BASE_URL = "https://api.knify.io";
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RETRIES = 2;
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "off"];
/** The connections `withOptions` hands to the client it makes, keyed by that client's options object. */
const sharedHttp = new WeakMap<ClientOptions, Promise<NativeHttp | undefined>>();

/**
 * The Knify API client. Reads `KNIFY_API_KEY`, `KNIFY_BASE_URL` and `KNIFY_WORKSPACE_ID` when not given; retries failed
 * requests (with the same `Idempotency-Key` on POSTs) and throws typed errors.
 *
 * @example
 * const client = new KnifyClient(); // KNIFY_API_KEY from the environment
 * const job = await client.jobs.createAndWait({ job_type: "cursor_task", prompt: "Hello" });
 *
 * const local = new KnifyClient("knify_test_…", { baseURL: "http://127.0.0.1:8080", maxRetries: 0 });
 */
export class KnifyClient {
  /** Jobs: create, list, get, events, continue, cleanup, waitFor. */
  readonly jobs: Jobs;
  /** API keys: create, list, get, update, revoke, verify, usage, rotate. */
  readonly keys: Keys;
  /** Workspaces: upload, list, get, replace, delete. */
  readonly workspaces: Workspaces;
  /** Webhook endpoints and their deliveries. */
  readonly webhookEndpoints: WebhookEndpoints;
  /** Verifies (`verify`, `unwrap`) and signs (`sign`) webhook deliveries; also in `@knify/sdk/webhooks`. */
  readonly webhooks = { verify, unwrap, sign } as const;
  /** The API's base URL, without a trailing slash. */
  readonly baseURL: string;
  // Private (#) so that logging or inspecting the client never shows the key.
  readonly #options: ClientOptions & { apiKey: string; baseURL: string };
  readonly #core: CoreClient;

  /**
   * @param apiKeyOrOptions The API key, or all options at once.
   * @param options Options, when the key is the first argument.
   * @throws {KnifyError} when there is no API key or an option is invalid.
   */
  constructor(apiKeyOrOptions?: string | ClientOptions, options: ClientOptions = {}) {
    const given = typeof apiKeyOrOptions === "object" ? apiKeyOrOptions : { ...options, apiKey: apiKeyOrOptions };
    // The environment is read here only, so importing the SDK has no side effects (and works without `process`).
    const env = typeof process !== "undefined" && process.env ? process.env : {};
    const apiKey = checkApiKey(given.apiKey ?? env.KNIFY_API_KEY);
    const baseURL = checkBaseURL(given.baseURL ?? (env.KNIFY_BASE_URL || DEFAULT_BASE_URL));
    const workspaceId = checkWorkspaceId(given.workspaceId ?? (env.KNIFY_WORKSPACE_ID || undefined));
    const timeout = checkNumber("timeout", given.timeout ?? DEFAULT_TIMEOUT_MS, 1);
    const maxRetries = checkNumber("maxRetries", given.maxRetries ?? DEFAULT_MAX_RETRIES, 0);
    if (!Number.isInteger(maxRetries)) throw new KnifyError(`maxRetries must be a whole number, got ${maxRetries}.`);
    const deadline = given.deadline === undefined ? undefined : checkNumber("deadline", given.deadline, 1);
    const logLevel = given.logLevel ?? "warn";
    if (!LOG_LEVELS.includes(logLevel)) {
      throw new KnifyError(`logLevel must be one of ${LOG_LEVELS.join(", ")}; got ${String(logLevel)}.`);
    }

    this.#options = { ...given, apiKey, baseURL };
    this.baseURL = baseURL;
    this.#core = new CoreClient({
      apiKey,
      baseURL,
      workspaceId,
      timeout,
      deadline,
      maxRetries,
      defaultHeaders: given.defaultHeaders ?? {},
      fetch: given.fetch,
      fetchOptions: given.fetchOptions ?? {},
      // `fetchOptions.dispatcher` was the way to pass one before the option existed; it still works.
      dispatcher: given.dispatcher ?? (given.fetchOptions?.dispatcher as ClientOptions["dispatcher"]),
      http: sharedHttp.get(given),
      logger: new LevelLogger(given.logger ?? console, logLevel, [apiKey]),
      clock: given.clock ?? systemClock,
      sleep: given.sleep ?? timerSleep,
      random: given.random ?? Math.random,
    });
    this.jobs = new Jobs(this.#core);
    this.keys = new Keys(this.#core);
    this.workspaces = new Workspaces(this.#core);
    this.webhookEndpoints = new WebhookEndpoints(this.#core);
  }

  /**
   * A new client with these options changed; this one is untouched.
   *
   * @example
   * const patient = client.withOptions({ timeout: 300_000, maxRetries: 5 });
   */
  withOptions(options: ClientOptions): KnifyClient {
    const merged = { ...this.#options, ...options };
    // Same way to the network: share this client's connections instead of opening a second pool per call
    // (a caller could otherwise multiply pools without bound). Closing this client closes them.
    if (merged.fetch === this.#options.fetch && merged.dispatcher === this.#options.dispatcher) {
      sharedHttp.set(merged, this.#core.http);
    }
    return new KnifyClient(merged);
  }

  /**
   * Closes the connections this client opened (Node: its undici `Agent`, after the requests in flight end),
   * so a script can exit at once; later calls fail with a `KnifyError`. A `dispatcher` you passed in is yours
   * to close. Clients made with `withOptions` share the connections and are closed with it.
   *
   * @example
   * const client = new KnifyClient();
   * try { await client.jobs.createAndWait(spec); } finally { await client.close(); }
   */
  close(): Promise<void> {
    return this.#core.close();
  }

  /** Whether the service is up, and its version. Needs no permission. `GET /` */
  health(options?: RequestOptions): APIPromise<components["schemas"]["Health"]> {
    return this.#core.call(options, (fetch) => this.#core.api.GET("/", { fetch }));
  }

  /**
   * Calls any path, e.g. one newer than this SDK, with the client's auth, retries, errors and logging.
   *
   * @example
   * const jobs = await client.request<Job[]>("GET", "/jobs", { query: { limit: 5 } });
   */
  request<T = unknown>(method: string, path: string, options?: RawRequestOptions): APIPromise<T> {
    return this.#core.request<T>(method, path, options);
  }
}

function checkApiKey(apiKey: string | undefined): string {
  if (apiKey === undefined || apiKey.trim() === "") {
    throw new KnifyError(
      "No API key: set the KNIFY_API_KEY environment variable, or pass one: new KnifyClient({ apiKey: 'knify_live_…' }).",
    );
  }
  // The key itself is never echoed: the message would end up in logs.
  if (/\s/.test(apiKey) || [...apiKey].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)) {
    throw new KnifyError("The API key contains whitespace or control characters; check for a trailing newline.");
  }
  return apiKey;
}

function checkBaseURL(baseURL: string): string {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    throw new KnifyError(
      `baseURL must be an absolute URL such as https://api.knify.io; got ${JSON.stringify(baseURL)}.`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KnifyError(`baseURL must use http or https; got ${url.protocol}`);
  }
  return baseURL.replace(/\/+$/, "");
}

function checkWorkspaceId(workspaceId: string | undefined): string | undefined {
  // The spec's WorkspaceIdValue pattern: a typo fails here, not as a 400 on some later call.
  if (workspaceId !== undefined && !/^ws_[A-Za-z0-9_]{1,64}$/.test(workspaceId)) {
    throw new KnifyError(
      `The workspace id (workspaceId option or KNIFY_WORKSPACE_ID) must look like ws_abc123; got ${JSON.stringify(workspaceId)}.`,
    );
  }
  return workspaceId;
}

function checkNumber(name: string, value: number, min: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new KnifyError(`${name} must be a number >= ${min}; got ${String(value)}.`);
  }
  return value;
}
