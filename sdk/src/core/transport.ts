import { VERSION } from "../generated/version.js";
import { APIConnectionError, APITimeoutError, APIUserAbortError } from "./errors.js";
import { KnifyError } from "./knify-error.js";
import { loadRuntime } from "./load-runtime.js";
import type { LevelLogger } from "./log.js";
import type { Clock, Dispatcher, FetchLike, RequestOptions, Sleep } from "./options.js";
import type { OutgoingRequest } from "./outgoing-request.js";
import { redactBody, redactHeaders, redactText } from "./redact.js";
import { backoffDelay, isRetryableStatus, MAX_SERVER_DELAY_MS, serverRequestedDelay } from "./retry-delay.js";
import type { NativeHttp } from "./runtime.js";

/** What the transport needs from the client; every side effect is injected. */
export interface TransportConfig {
  apiKey: string;
  timeout: number;
  deadline: number | undefined;
  maxRetries: number;
  defaultHeaders: Record<string, string>;
  fetch: FetchLike | undefined;
  fetchOptions: Record<string, unknown>;
  dispatcher: Dispatcher | undefined;
  logger: LevelLogger;
  clock: Clock;
  sleep: Sleep;
  random: () => number;
}

/** One attempt ends with a response (of any status) or with an error that never reached the server's answer. */
type Outcome = { response: Response; error?: undefined } | { response?: undefined; error: APIConnectionError };

/**
 * The one seam between the SDK and the network: authentication, default headers, idempotency keys,
 * per-attempt timeouts, the call's deadline and retries with backoff all happen here, and only here is a
 * request sent: through the runtime's native client (Node: undici's dispatcher) or through `fetch`.
 * Everything above it (openapi-fetch, resources) sees a plain `fetch(request)`.
 */
export class Transport {
  readonly #config: TransportConfig;
  readonly #http: Promise<NativeHttp | undefined>;
  #closed = false;

  constructor(config: TransportConfig, http?: Promise<NativeHttp | undefined>) {
    this.#config = config;
    // The native client is only for the client's own default: a user-supplied fetch always wins.
    this.#http =
      config.fetch === undefined
        ? (http ?? loadRuntime().then((runtime) => runtime.http(config.dispatcher)))
        : Promise.resolve(undefined);
    // Handled here so a failed import does not crash a process that never sends; `send` still rejects with it.
    this.#http.catch(() => undefined);
  }

  /** The native HTTP client this transport owns, for a client made by `withOptions` to share. */
  get http(): Promise<NativeHttp | undefined> {
    return this.#http;
  }

  /** Closes the connections the client opened; later calls fail with a `KnifyError`. */
  async close(): Promise<void> {
    this.#closed = true;
    await (await this.#http)?.close();
  }

  /**
   * Sends `request`, retrying connection errors, timeouts, 408, 429 and 5xx. Resolves with the final
   * response whatever its status (turning it into an error is `toAPIResponse`'s job); rejects only when
   * no response arrived.
   */
  async send(request: OutgoingRequest, options: RequestOptions = {}): Promise<Response> {
    const http = await this.#http;
    if (this.#closed || http?.closed) {
      throw new KnifyError(`${request.method} ${request.url}: this client was closed; make a new KnifyClient.`);
    }
    const config = this.#config;
    const { signal } = options;
    const maxRetries = options.maxRetries ?? config.maxRetries;
    const timeout = options.timeout ?? config.timeout;
    const deadline = options.deadline ?? config.deadline;
    const deadlineAt = deadline === undefined ? Number.POSITIVE_INFINITY : config.clock.now() + deadline;
    // Encoded once: a retry must send the same bytes.
    const { body, contentType } = await request.encode();
    const headers = this.#headers(request, options);
    if (contentType !== null && !headers.has("content-type")) headers.set("content-type", contentType);
    const target = `${request.method} ${request.url}`;

    for (let retry = 0; ; retry++) {
      if (signal?.aborted) throw new APIUserAbortError(undefined, { cause: signal.reason });
      // Tells the server (and its logs) that this is a retry; the Idempotency-Key stays the same.
      if (retry > 0) headers.set("X-Knify-Retry-Count", String(retry));
      const remaining = deadlineAt - config.clock.now();
      const attemptTimeout = Math.max(0, Math.min(timeout, remaining));
      const cutByDeadline = remaining < timeout;
      this.#logRequest(target, headers, body, retry);

      const started = config.clock.now();
      const native = http?.active() ? http : undefined;
      const outcome = await this.#attempt(native, request, headers, body, attemptTimeout, cutByDeadline, signal);
      if (outcome.response) {
        await this.#logResponse(target, outcome.response, config.clock.now() - started);
        if (!isRetryableStatus(outcome.response.status)) return outcome.response;
      }

      const delay = this.#retryDelay(retry, outcome, deadline !== undefined);
      const why = outcome.response ? `status ${outcome.response.status}` : outcome.error.message;
      if (retry >= maxRetries || delay === undefined || config.clock.now() + delay > deadlineAt) {
        // No retry left, the server asked for too long a wait, or waiting would pass the deadline:
        // surface the last failure instead of sleeping in vain.
        if (retry > 0 || delay === undefined)
          this.#config.logger.warn(`${target} failed after ${retry + 1} attempt(s): ${why}`);
        if (outcome.response) return outcome.response;
        throw outcome.error;
      }
      this.#config.logger.info(`${target}: ${why}; retry ${retry + 1}/${maxRetries} in ${Math.round(delay)} ms`);
      // Free the connection of the response we are discarding.
      await outcome.response?.body?.cancel().catch(() => undefined);
      try {
        await config.sleep(delay, signal);
      } catch (error) {
        throw new APIUserAbortError(undefined, { cause: error });
      }
    }
  }

  #headers(request: OutgoingRequest, options: RequestOptions): Headers {
    const headers = new Headers({
      Accept: "application/json",
      "User-Agent": `knify-sdk-typescript/${VERSION}`,
      Authorization: `Bearer ${this.#config.apiKey}`,
    });
    for (const [name, value] of Object.entries(this.#config.defaultHeaders)) headers.set(name, value);
    request.headers.forEach((value, name) => {
      headers.set(name, value);
    });
    for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
    if (options.idempotencyKey !== undefined) headers.set("Idempotency-Key", options.idempotencyKey);
    else if (request.method === "POST" && !headers.has("Idempotency-Key")) {
      // Created once per call, before the first attempt, so every retry carries the same key and the
      // server answers a retried POST with the first result instead of acting twice (stripe-node's scheme).
      headers.set("Idempotency-Key", `knify-retry-${globalThis.crypto.randomUUID()}`);
    }
    return headers;
  }

  async #attempt(
    http: NativeHttp | undefined,
    request: OutgoingRequest,
    headers: Headers,
    body: Uint8Array | undefined,
    timeout: number,
    cutByDeadline: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Outcome> {
    const timer = new AbortController();
    let timedOut = false;
    const handle = setTimeout(() => {
      timedOut = true;
      timer.abort();
    }, timeout);
    // AbortSignal.any keeps the caller's signal attached while the body is read (SSE), without leaking a
    // listener per request on a long-lived signal.
    const combined = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
    try {
      if (http) {
        const sent = { url: request.url, method: request.method, headers, body, signal: combined, timeout };
        return { response: await http.send(sent) };
      }
      const { fetchOptions, dispatcher } = this.#config;
      const init = {
        ...fetchOptions,
        ...(dispatcher === undefined ? {} : { dispatcher }),
        method: request.method,
        headers: new Headers(headers),
        signal: combined,
        redirect: request.redirect,
        ...(body === undefined ? {} : { body }),
      } as RequestInit;
      return { response: await (this.#config.fetch ?? globalThis.fetch)(request.url, init) };
    } catch (error) {
      if (signal?.aborted) throw new APIUserAbortError(undefined, { cause: signal.reason });
      const target = `${request.method} ${request.url}`;
      // A native client's own timeout ("TimeoutError", as AbortSignal.timeout names it) can fire with our timer.
      if (timedOut || (error as Error | undefined)?.name === "TimeoutError") {
        const message = cutByDeadline
          ? `${target} passed the call's deadline (${timeout} ms were left for this attempt).`
          : `${target} timed out after ${timeout} ms; raise the timeout option if the server is slow.`;
        return { error: new APITimeoutError(message, { cause: error }) };
      }
      const reason = redactText(describeCause(error), [this.#config.apiKey]);
      return {
        error: new APIConnectionError(`Could not reach ${new URL(request.url).origin} (${reason}).`, { cause: error }),
      };
    } finally {
      clearTimeout(handle);
    }
  }

  /** The wait before retry number `retry`, or `undefined` when the server asked for more than we will wait. */
  #retryDelay(retry: number, outcome: Outcome, hasDeadline: boolean): number | undefined {
    const { clock, random } = this.#config;
    if (outcome.response) {
      const requested = serverRequestedDelay(outcome.response.status, outcome.response.headers, clock.now());
      if (requested !== undefined) {
        // With a deadline the caller chose how long to wait; without one, do not hang for minutes.
        return hasDeadline || requested <= MAX_SERVER_DELAY_MS ? requested : undefined;
      }
    }
    return backoffDelay(retry, random);
  }

  #logRequest(target: string, headers: Headers, body: Uint8Array | undefined, retry: number): void {
    const { logger } = this.#config;
    if (!logger.enabled("debug")) return;
    const isText = /json|text/.test(headers.get("content-type") ?? "");
    logger.debug(`→ ${target}${retry > 0 ? ` (retry ${retry})` : ""}`, {
      headers: redactHeaders(headers),
      ...(body === undefined
        ? {}
        : {
            body: isText
              ? redactBody(new TextDecoder().decode(body), [this.#config.apiKey])
              : `<${body.byteLength} bytes>`,
          }),
    });
  }

  async #logResponse(target: string, response: Response, ms: number): Promise<void> {
    const { logger } = this.#config;
    if (!logger.enabled("debug")) return;
    // Only JSON is read for the log: reading an event stream here would wait for the whole stream.
    const isJSON = /json/.test(response.headers.get("content-type") ?? "");
    const body = isJSON ? redactBody(await response.clone().text(), [this.#config.apiKey]) : undefined;
    logger.debug(`← ${response.status} ${target} in ${ms} ms`, {
      requestId: response.headers.get("x-request-id") ?? undefined,
      headers: redactHeaders(response.headers),
      ...(body === undefined ? {} : { body }),
    });
  }
}

/** `fetch failed` says nothing; the useful part (ECONNREFUSED, ENOTFOUND, …) is in the cause. */
function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) return `${error.message}: ${(cause as { code?: string }).code ?? cause.message}`;
  return error.message;
}
