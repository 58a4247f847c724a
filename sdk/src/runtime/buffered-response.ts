type ResponseBase = new (body: null, init: ResponseInit) => Pick<Response, "headers" | "status" | "statusText">;

/**
 * A `Response` whose body is already in memory. Node's `new Response(bytes)` wraps the bytes in a web stream
 * and `json()` reads them back through it, which was a sixth of a `client.jobs.get()` (issue 11, part 2);
 * this one answers `json()`, `text()` and the rest from the bytes, and makes a stream only if `body` is read.
 */
export function bufferedResponse(bytes: Uint8Array, init: ResponseInit): Response {
  BufferedResponse ??= defineBufferedResponse(Response);
  return new BufferedResponse(bytes, init) as unknown as Response;
}

let BufferedResponse: ReturnType<typeof defineBufferedResponse> | undefined;

// Defined on first use: reading the global `Response` makes Node load its bundled undici, which importing
// the SDK must not do. The base is typed loosely: @types/node declares Response's methods as properties,
// which a subclass cannot override.
function defineBufferedResponse(Base: ResponseBase) {
  return class BufferedResponse extends Base {
    readonly #bytes: Uint8Array;
    #used = false;
    #stream: ReadableStream<Uint8Array> | null | undefined;

    constructor(bytes: Uint8Array, init: ResponseInit) {
      super(null, init);
      this.#bytes = bytes;
    }

    get body(): ReadableStream<Uint8Array> | null {
      if (this.#stream === undefined) {
        this.#stream = new Response(this.#bytes).body;
        this.#used = true;
      }
      return this.#stream;
    }

    get bodyUsed(): boolean {
      return this.#used;
    }

    async arrayBuffer(): Promise<ArrayBuffer> {
      const bytes = this.#take();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    }

    async bytes(): Promise<Uint8Array> {
      return new Uint8Array(await this.arrayBuffer());
    }

    async text(): Promise<string> {
      return new TextDecoder().decode(this.#take());
    }

    async json(): Promise<unknown> {
      return JSON.parse(await this.text());
    }

    async blob(): Promise<Blob> {
      return new Blob([await this.arrayBuffer()], { type: this.headers.get("content-type") ?? "" });
    }

    clone(): Response {
      if (this.#used) throw new TypeError("Response.clone: the body has already been read");
      return bufferedResponse(this.#bytes, { status: this.status, statusText: this.statusText, headers: this.headers });
    }

    #take(): Uint8Array {
      // As with any Response, the body can be read once.
      if (this.#used) throw new TypeError("Body is unusable: the body has already been read");
      this.#used = true;
      return this.#bytes;
    }
  };
}
