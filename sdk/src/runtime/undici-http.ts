import type { Dispatcher } from "../core/options.js";
import type { NativeHttp, NativeRequest } from "../core/runtime.js";
import { bufferedResponse } from "./buffered-response.js";

type Undici = typeof import("undici");
type UndiciDispatcher = import("undici").Dispatcher;

// Loaded on the first request, not at import: `import('@knify/sdk')` stays cheap (issue 11, part 2).
let undici: Promise<Undici> | undefined;

// Node's own `fetch` (lib/internal/bootstrap/web/exposed-window-or-worker.js) begins like this; msw's patch
// is an arrow function. If a Node release changes the text, requests go through fetch: slower, still right
// (test/sdk/node-transport.test.ts fails then, so the check gets updated).
const NODE_FETCH = /^function fetch\(input, init = undefined\)/;
let seenFetch: unknown;
let seenIsNodes = false;

/** Whether `globalThis.fetch` is still Node's own; remembered per function, so the check costs nothing. */
function fetchIsNodes(): boolean {
  const current = globalThis.fetch;
  if (current !== seenFetch) {
    seenFetch = current;
    seenIsNodes = typeof current === "function" && NODE_FETCH.test(Function.prototype.toString.call(current));
  }
  return seenIsNodes;
}

/** Statuses whose response has no body (Fetch standard, "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * HTTP through undici's `request` on a dispatcher: about twice the requests per second of Node's `fetch`
 * (bench/transport.mjs), and the dispatcher is where Node users set proxies, keep-alive and connection limits.
 */
export class UndiciHttp implements NativeHttp {
  readonly #given: UndiciDispatcher | undefined;
  #own: UndiciDispatcher | undefined;
  #closed = false;

  constructor(dispatcher: Dispatcher | undefined) {
    // undici 7's Dispatcher type does not match the one @types/node bundles (toolchain.md, trap 5).
    this.#given = dispatcher as UndiciDispatcher | undefined;
  }

  active(): boolean {
    return fetchIsNodes();
  }

  send(request: NativeRequest): Promise<Response> {
    return this.#send(request).catch(renameTimeout);
  }

  async #send(request: NativeRequest): Promise<Response> {
    undici ??= import("undici");
    const { request: send, Agent } = await undici;
    // One pool per client unless the caller brings a dispatcher; `close()` ends it.
    this.#own ??= this.#given === undefined ? new Agent() : undefined;
    const dispatcher = this.#given ?? (this.#own as UndiciDispatcher);
    const response = await send(request.url, {
      dispatcher,
      method: request.method as "GET",
      headers: Object.fromEntries(request.headers),
      body: request.body ?? null,
      signal: request.signal,
      // undici's own defaults (300 s each) must neither cut a longer timeout nor outlive a shorter one.
      headersTimeout: request.timeout,
      bodyTimeout: request.timeout,
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (Array.isArray(value)) for (const each of value) headers.append(name, each);
      else if (value !== undefined) headers.append(name, value);
    }
    const init = { status: response.statusCode, headers };
    if (NULL_BODY.has(response.statusCode) || request.method === "HEAD") {
      await response.body.dump();
      return new Response(null, init);
    }
    // JSON is read here, within the attempt's timeout; event streams and archives stay streams.
    if (/json/.test(headers.get("content-type") ?? "")) {
      return bufferedResponse(new Uint8Array(await response.body.arrayBuffer()), init);
    }
    return new Response(readable(response.body), init);
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#own?.close();
  }
}

/** undici's header and body timeouts, named as the transport expects a native client's timeout to be. */
function renameTimeout(error: unknown): never {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") (error as Error).name = "TimeoutError";
  throw error;
}

/** undici's body as a web stream that cancels the socket read when the consumer stops early. */
function readable(body: import("undici").Dispatcher.ResponseData["body"]): ReadableStream<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel(reason) {
      body.destroy(reason instanceof Error ? reason : undefined);
    },
  });
}
