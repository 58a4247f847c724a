import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import Koa, { type ParameterizedContext } from "koa";
import { type CoreDeps, createCore } from "../http/core.js";
import type { CoreRequest, RequestBody, ResponseStream } from "../http/request.js";
import { type Logger, requestLogger } from "../logger.js";
import { corsMiddleware } from "./cors.js";
import { clientAddress, forwardedOrigin } from "./forwarded.js";
import { readBody } from "./read-body.js";

/** What the app needs; every side effect is injected (tests pass a :memory: store and a manual clock). */
export interface AppDeps extends CoreDeps {
  logger: Logger;
  config: CoreDeps["config"] & { trustProxy: boolean; corsOrigins: readonly string[] };
}

/**
 * The reference server's HTTP adapter: Koa turns each request into the core's plain request and writes its
 * plain response back — streams included — and logs one line per request. Routing, authentication,
 * validation and every operation live in the core (`createCore`), which the msw mock runs too.
 * @example const app = createApp({ store, clock: systemClock, logger, config, handlers: buildHandlers(services) });
 */
export function createApp(deps: AppDeps): Koa {
  const core = createCore(deps);
  const app = new Koa();
  // KNIFY_TRUST_PROXY=1: scheme, host and client address come from the proxy's headers (issue 8, item 6).
  app.proxy = deps.config.trustProxy;
  // Koa would otherwise print errors itself; ours are logged once, with the request id.
  app.silent = true;
  const requestLog = requestLogger(deps.logger);
  const cors = corsMiddleware(deps.config.corsOrigins);
  if (cors) app.use(cors);

  app.use(async function serve(ctx) {
    const started = performance.now();
    // Read now: once a refused body is torn down, the request may no longer have its socket.
    const client = clientAddress(ctx);
    const response = await core(new KoaCoreRequest(ctx));
    // Answered before the body was read (401, 404, 408, …): close, or Node would keep the connection
    // open to drain a body the client may trickle for the whole request timeout.
    const close = !ctx.req.complete;
    if (typeof response.body === "string" && "Content-Type" in response.headers) {
      // The core's JSON and problem+json answers (every short request) go to Node in one writeHead: Koa's
      // per-header ctx.set and its body setters were ~5 % of a short request's CPU (issue 11). Node drops the
      // body of a HEAD, 204 or 304 itself. Headers set before (CORS) stay: writeHead merges them.
      ctx.respond = false;
      const head: string[] = ["Content-Length", String(Buffer.byteLength(response.body))];
      for (const name in response.headers) head.push(name, response.headers[name] as string);
      if (close) head.push("Connection", "close");
      ctx.res.writeHead(response.status, head);
      ctx.res.end(response.body);
    } else {
      ctx.status = response.status;
      for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value);
      if (typeof response.body === "string") ctx.body = response.body;
      else if (response.body !== null) {
        // An event stream must reach the client as each event is written, not when Nagle's timer says so.
        if (ctx.response.type === "text/event-stream") ctx.req.socket.setNoDelay(true);
        ctx.body = toReadable(response.body);
      }
      if (close) ctx.set("Connection", "close");
    }
    // Method, path, status and timing only: never headers or bodies, which carry keys and secrets.
    requestLog.info(
      {
        request_id: response.log.requestId,
        method: ctx.method,
        path: ctx.path,
        status: response.status,
        key_id: response.log.keyId,
        client,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      "request",
    );
  });
  return app;
}

/**
 * The core's request over a Koa context. Classes, not object literals, on purpose: V8 builds an object literal
 * with a getter (`{ get signal() {…} }`) on its slow path each time it is evaluated, with dictionary-mode
 * properties, and two made per request made each young-generation GC 5–10× slower and grew the old space by
 * ~4 KB per request (issue 11: `--trace-gc` under load, 8–10 ms per scavenge and a mark-compact every
 * ~10k requests, against ~1–2 ms and none with these classes).
 */
class KoaCoreRequest implements CoreRequest {
  readonly method: string;
  readonly path: string;
  readonly search: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly authorizationCount: number;
  readonly body: RequestBody;
  readonly forwardedOrigin: string | null;
  readonly #res: ServerResponse;
  #gone: AbortController | undefined;

  constructor(ctx: ParameterizedContext) {
    const { req } = ctx;
    this.method = ctx.method;
    this.path = ctx.path;
    this.search = ctx.querystring;
    // Node already joins repeated headers with ", " except set-cookie, which a request rarely carries.
    this.headers =
      req.headers["set-cookie"] === undefined
        ? (req.headers as Record<string, string | undefined>)
        : flatHeaders(req.headers);
    this.authorizationCount = countAuthorization(req.rawHeaders);
    this.body = new NodeRequestBody(req);
    this.forwardedOrigin = forwardedOrigin(ctx);
    this.#res = ctx.res;
  }

  // Made on first use (streams, long polls): a controller per request, and the DOMException its abort
  // makes when the response closes, were ~6 % of a short request's CPU (issue 11).
  get signal(): AbortSignal {
    if (!this.#gone) {
      const controller = new AbortController();
      this.#gone = controller;
      if (this.#res.closed) controller.abort();
      else this.#res.once("close", () => controller.abort());
    }
    return this.#gone.signal;
  }
}

/** The body of a Node request as the core reads it: whole within limits, or as the stream itself. */
class NodeRequestBody implements RequestBody {
  readonly #req: IncomingMessage;

  constructor(req: IncomingMessage) {
    this.#req = req;
  }

  read(limit: number, timeoutMs: number): Promise<Uint8Array> {
    return readBody(this.#req, limit, timeoutMs);
  }

  stream(): AsyncIterable<Uint8Array> {
    return this.#req;
  }

  get complete(): boolean {
    return this.#req.complete;
  }
}

/** The body of a Node request as the core reads it (the workspace upload tests use it on a bare Node server). */
export function nodeRequestBody(req: IncomingMessage): RequestBody {
  return new NodeRequestBody(req);
}

/** Node's headers with repeated values (only `set-cookie` is an array) joined as a `Headers` object would. */
export function flatHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  return flat;
}

/** How many Authorization header lines the request has (Node keeps only the first of several). */
function countAuthorization(raw: string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === "authorization") count++;
  return count;
}

function toReadable(body: ResponseStream): Readable {
  if (body instanceof Readable) return body;
  if (body instanceof ReadableStream) return Readable.fromWeb(body as import("node:stream/web").ReadableStream);
  return Readable.from(body, { objectMode: false });
}
