import createClient, { type Client } from "openapi-fetch";
import type { paths } from "../generated/wire.js";
import { APIPromise, type APIResponse } from "./api-promise.js";
import { KnifyError } from "./knify-error.js";
import { nextLink } from "./link.js";
import type { LevelLogger } from "./log.js";
import type { Clock, RequestOptions, Sleep } from "./options.js";
import { OutgoingRequest } from "./outgoing-request.js";
import { type Page, PagePromise } from "./pagination.js";
import type { NativeHttp } from "./runtime.js";
import { type RawResult, toAPIResponse } from "./to-api-response.js";
import { Transport, type TransportConfig } from "./transport.js";

/**
 * The `fetch` an operation hands to openapi-fetch: the transport, bound to the call's options. Typed with
 * `Request` because openapi-fetch's types say so; what it receives is the client's {@link OutgoingRequest}.
 */
export type OperationFetch = (request: Request) => Promise<Response>;

/** Options of {@link KnifyClient.request}. */
export interface RawRequestOptions extends RequestOptions {
  /** Query parameters. */
  query?: Record<string, string | number | boolean | undefined> | undefined;
  /** A JSON-serialisable body, or `FormData` for multipart. */
  body?: unknown;
}

/** openapi-fetch's `request` without the path typing, for paths the spec types do not name (links, escape hatch). */
type UntypedRequest = (
  method: string,
  path: string,
  init: {
    baseUrl?: string;
    params?: { query?: Record<string, unknown> };
    body?: unknown;
    fetch: OperationFetch;
  },
) => Promise<RawResult<unknown>>;

/** What the client core is built from. */
export interface CoreConfig extends TransportConfig {
  baseURL: string;
  /** The default `workspace_id` of operations that take one (`KNIFY_WORKSPACE_ID`). */
  workspaceId: string | undefined;
  /** A native HTTP client to share (a client made by `withOptions` uses its parent's connections). */
  http?: Promise<NativeHttp | undefined> | undefined;
}

/**
 * The client's machinery, shared by every resource: the typed openapi-fetch client whose `fetch` is the
 * {@link Transport}, and the helpers that turn its results into `APIPromise`s and `PagePromise`s.
 */
export class CoreClient {
  /** The typed openapi-fetch client over the spec's `paths`. */
  readonly api: Client<paths, "application/json">;
  readonly baseURL: string;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random: () => number;
  readonly maxRetries: number;
  readonly logger: LevelLogger;
  /** The default `workspace_id`, if the client has one; an explicit argument always wins. */
  readonly workspaceId: string | undefined;
  readonly #transport: Transport;
  readonly #secrets: readonly string[];

  constructor(config: CoreConfig) {
    this.baseURL = config.baseURL;
    this.clock = config.clock;
    this.sleep = config.sleep;
    this.random = config.random;
    this.maxRetries = config.maxRetries;
    this.logger = config.logger;
    this.workspaceId = config.workspaceId;
    this.#secrets = [config.apiKey];
    this.#transport = new Transport(config, config.http);
    // Every operation passes its own `fetch` (the transport bound to its options); this default only
    // matters if one forgets. Never openapi-fetch's default: it captures globalThis.fetch at creation,
    // which msw cannot intercept later (toolchain.md).
    this.api = createClient<paths, "application/json">({
      baseUrl: config.baseURL,
      fetch: (request) => this.#transport.send(outgoing(request)),
      // One cast, documented: openapi-fetch types this option as the WHATWG class, and only calls `new` on it.
      Request: OutgoingRequest as unknown as typeof Request,
    });
  }

  /** The transport's native HTTP client, if it has one. */
  get http(): Promise<NativeHttp | undefined> {
    return this.#transport.http;
  }

  /** Closes the transport's connections; later calls fail. */
  close(): Promise<void> {
    return this.#transport.close();
  }

  /**
   * Runs one operation and returns its `APIPromise`.
   *
   * @example
   * return this.core.call(options, (fetch) => this.core.api.GET("/jobs/{job_id}", { params: { path: { job_id } }, fetch }));
   */
  call<T>(options: RequestOptions | undefined, run: (fetch: OperationFetch) => Promise<RawResult<T>>): APIPromise<T> {
    return new APIPromise(this.#run(options, run));
  }

  /** Runs a list operation and returns a `PagePromise` that can follow `Link: rel="next"`. */
  list<T>(
    options: RequestOptions | undefined,
    run: (fetch: OperationFetch) => Promise<RawResult<T[]>>,
  ): PagePromise<T> {
    return new PagePromise(this.#page(options, run), (url) => this.#page(options, (fetch) => this.#follow(url, fetch)));
  }

  /** The workspace an operation acts on: the explicit one, else the client's default, else a clear error. */
  workspace(explicit: string | undefined): string {
    const id = explicit ?? this.workspaceId;
    if (id === undefined) {
      throw new KnifyError(
        "No workspace id: pass one, or set the KNIFY_WORKSPACE_ID environment variable (or the workspaceId option).",
      );
    }
    return id;
  }

  /** A JSON body with the client's default `workspace_id` filled in when the caller gave none. */
  withWorkspace<B extends { workspace_id?: string }>(body: B): B {
    return body.workspace_id === undefined && this.workspaceId !== undefined
      ? { ...body, workspace_id: this.workspaceId }
      : body;
  }

  /** A request to any path, with the same auth, retries, errors and logging as the typed methods. */
  request<T = unknown>(method: string, path: string, options: RawRequestOptions = {}): APIPromise<T> {
    const { query, body, ...requestOptions } = options;
    return this.call<T>(
      requestOptions,
      (fetch) =>
        this.#untyped(method.toUpperCase(), path, {
          ...(query === undefined ? {} : { params: { query } }),
          ...(body === undefined ? {} : { body }),
          fetch,
        }) as Promise<RawResult<T>>,
    );
  }

  async #run<T>(options: RequestOptions | undefined, run: (fetch: OperationFetch) => Promise<RawResult<T>>) {
    const result = await run((request) => this.#transport.send(outgoing(request), options));
    return toAPIResponse(result, this.#secrets);
  }

  async #page<T>(
    options: RequestOptions | undefined,
    run: (fetch: OperationFetch) => Promise<RawResult<T[]>>,
  ): Promise<Page<T>> {
    const response: APIResponse<T[]> = await this.#run(options, run);
    const base = response.response.url || this.baseURL;
    return { ...response, nextURL: nextLink(response.response.headers.get("link"), base) };
  }

  #follow<T>(url: URL, fetch: OperationFetch): Promise<RawResult<T[]>> {
    // The key goes only where the client was pointed: a Link to another origin is a server bug or an attack.
    if (url.origin !== new URL(this.baseURL).origin) {
      throw new KnifyError(
        `Refusing to follow a pagination link to ${url.origin}: the client talks to ${this.baseURL}.`,
      );
    }
    const query = Object.fromEntries(url.searchParams);
    return this.#untyped("GET", url.pathname, { baseUrl: url.origin, params: { query }, fetch }) as Promise<
      RawResult<T[]>
    >;
  }

  #untyped(...args: Parameters<UntypedRequest>): Promise<RawResult<unknown>> {
    // One cast, documented: openapi-fetch's `request` is typed over `paths`, and these paths are not in it.
    return (this.api.request as unknown as UntypedRequest)(...args);
  }
}

/** The request openapi-fetch built with the client's `Request` option (its types still say `Request`). */
function outgoing(request: Request): OutgoingRequest {
  if (!(request instanceof OutgoingRequest))
    throw new TypeError("openapi-fetch did not use the client's Request class");
  return request;
}
