/**
 * The plain request and response the core works on. An adapter (Koa for the server, msw for
 * `@knify/sdk/testing`) turns its framework's request into a {@link CoreRequest} and writes the
 * {@link CoreResponse} back; nothing in between knows which framework it runs in (issue 9).
 * Runtime-neutral: no Node types here.
 */
export interface CoreRequest {
  method: string;
  /** The path as sent, still percent-encoded (`/jobs/job_1/events`). */
  path: string;
  /** The query string without its `?` (empty when there is none). */
  search: string;
  /** Header values by lower-case name (repeated headers joined as the adapter's framework joins them). */
  headers: Readonly<Record<string, string | undefined>>;
  /**
   * How many `Authorization` lines the request carried: Node keeps only the first and a `Headers` object
   * joins them, so the adapter counts them (several are refused, issue 15 item 9).
   */
  authorizationCount: number;
  body: RequestBody;
  /** Aborted when the client goes away (and once the response is over). */
  signal: AbortSignal;
  /** The origin a trusted reverse proxy reports (`KNIFY_TRUST_PROXY=1`), or null: the base of `Link` URLs. */
  forwardedOrigin: string | null;
}

/** The request body, read the way an operation needs it. */
export interface RequestBody {
  /**
   * The whole body, at most `limit` bytes (a 413 problem beyond, refused as soon as it grows past) and
   * within `timeoutMs` (a 408 problem otherwise).
   */
  read(limit: number, timeoutMs: number): Promise<Uint8Array>;
  /** The body as a stream of bytes, for a workspace upload read piece by piece. */
  stream(): AsyncIterable<Uint8Array>;
  /** Whether all of the body has arrived; an answer sent before then closes the connection. */
  readonly complete: boolean;
}

/** A body that streams: server-sent events, an archive download. */
export type ResponseStream = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/** What the core answers. `body` is JSON or problem+json text, a stream, or null (no body). */
export interface CoreResponse {
  status: number;
  headers: Record<string, string>;
  body: string | ResponseStream | null;
  /** For the adapter's request log: the request id and the authenticated key (never the secret). */
  log: { requestId: string; keyId?: string };
}

/** The value of one request header, or "" when it is absent. */
export function headerOf(request: Pick<CoreRequest, "headers">, name: string): string {
  return request.headers[name.toLowerCase()] ?? "";
}
