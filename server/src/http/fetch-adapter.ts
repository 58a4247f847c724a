import type { Core } from "./core.js";
import { ProblemError } from "./problem.js";
import type { CoreRequest, RequestBody, ResponseStream } from "./request.js";

/**
 * The core as a web-standard fetch handler, `(Request) => Promise<Response>`: what an msw handler, a
 * Service Worker or an edge runtime calls. `basePath` is the part of the URL before the API's own paths
 * (`/v1` for `https://api.example.com/v1`). Runtime-neutral: web streams only.
 * @example http.all(`${base}/*`, ({ request }) => handle(request)) // msw
 */
export function fetchHandler(core: Core, basePath = ""): (request: Request) => Promise<Response> {
  const prefix = basePath.replace(/\/+$/, "");
  return async (request) => {
    const url = new URL(request.url);
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) || "/" : url.pathname;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const coreRequest: CoreRequest = {
      method: request.method,
      path,
      search: url.search.replace(/^\?/, ""),
      headers,
      // A Headers object joins repeated Authorization lines into one value, which then fails to parse (401).
      authorizationCount: request.headers.has("authorization") ? 1 : 0,
      body: new WebRequestBody(request),
      signal: request.signal,
      forwardedOrigin: null,
    };
    const response = await core(coreRequest);
    const body =
      response.body === null || typeof response.body === "string" ? response.body : toWebStream(response.body);
    // A 204 or 304 carries no body, whatever the handler said.
    const empty = response.status === 204 || response.status === 304;
    return new Response(empty ? null : body, { status: response.status, headers: response.headers });
  };
}

/**
 * A fetch Request's body as the core reads it: whole within a limit, or as a stream. A class, not an object
 * literal with a `get complete()`: V8 builds such a literal on its slow path (dictionary-mode properties) each
 * time, which made per request costs the garbage collector dearly (issue 11; see `KoaCoreRequest`).
 */
class WebRequestBody implements RequestBody {
  readonly #request: Request;
  #complete: boolean;

  constructor(request: Request) {
    this.#request = request;
    this.#complete = request.body === null;
  }

  get complete(): boolean {
    return this.#complete;
  }

  async read(limit: number): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of this.stream()) {
      size += chunk.byteLength;
      if (size > limit) throw new ProblemError("payload_too_large", `The body is over the limit of ${limit} bytes.`);
      chunks.push(chunk);
    }
    const all = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      all.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return all;
  }

  async *stream(): AsyncGenerator<Uint8Array> {
    const body = this.#request.body;
    if (body === null) return;
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        yield value;
      }
      this.#complete = true;
    } finally {
      reader.releaseLock();
    }
  }
}

/** A web ReadableStream of any response stream (an async iterable is pulled as the reader asks). */
function toWebStream(body: ResponseStream): ReadableStream<Uint8Array> {
  if (body instanceof ReadableStream) return body;
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
