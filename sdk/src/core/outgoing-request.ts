import { utf8 } from "../webhooks/bytes.js";

/** A request body as openapi-fetch serialises it: JSON text, or `FormData` for multipart. */
type Body = string | FormData | Blob | ArrayBuffer | Uint8Array | null | undefined;

/**
 * What openapi-fetch builds for the transport (its `Request` option) in place of a WHATWG `Request`. Only the
 * transport reads it, and building a real one (with its AbortSignal and body stream) was a fifth of a
 * `client.jobs.get()` in Node (issue 11, part 2). Bodies other than text are still encoded by a real
 * `Request`, so multipart gets its boundary exactly as `fetch` would make it.
 */
export class OutgoingRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly redirect: NonNullable<RequestInit["redirect"]>;
  readonly #body: Body;

  constructor(url: string, init: RequestInit) {
    this.url = url;
    this.method = (init.method ?? "GET").toUpperCase();
    this.headers = new Headers(init.headers);
    this.redirect = init.redirect ?? "follow";
    this.#body = init.body as Body;
  }

  /** The body's bytes, and the `Content-Type` encoding them chose (multipart's boundary), if any. */
  async encode(): Promise<{ body: Uint8Array | undefined; contentType: string | null }> {
    const body = this.#body;
    if (body === undefined || body === null) return { body: undefined, contentType: null };
    if (typeof body === "string") return { body: utf8(body), contentType: null };
    const request = new Request(this.url, { method: this.method, body });
    return { body: new Uint8Array(await request.arrayBuffer()), contentType: request.headers.get("content-type") };
  }
}
