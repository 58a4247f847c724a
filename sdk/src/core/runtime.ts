import type { KnifyError } from "./knify-error.js";
import type { Dispatcher } from "./options.js";

/** One HTTP attempt as the transport hands it to a native client: everything already decided. */
export interface NativeRequest {
  url: string;
  method: string;
  headers: Headers;
  body: Uint8Array | undefined;
  signal: AbortSignal;
  /** The attempt's timeout in ms: the wait for the response headers, and for each chunk of the body. */
  timeout: number;
}

/** A runtime's own HTTP client (Node: undici's dispatcher), faster than its `fetch`. */
export interface NativeHttp {
  /**
   * Whether to use it for the next request: false while `globalThis.fetch` is not the runtime's own (msw,
   * nock and the like patch it to intercept requests, and only `fetch` goes through their patch).
   */
  active(): boolean;
  /**
   * Sends one attempt; rejects like `fetch` does when no response arrives, with an error named
   * `"TimeoutError"` when its own timeout (`timeout`) fired.
   */
  send(request: NativeRequest): Promise<Response>;
  /** Closes the connections this client opened (not a dispatcher the caller passed in). */
  close(): Promise<void>;
  /** Whether `close()` was called: clients sharing it (`withOptions`) are closed with it. */
  readonly closed: boolean;
}

/**
 * What differs between runtimes. `src/runtime/node.ts` is Node's; `src/runtime/default.ts` serves browsers,
 * workers and edge runtimes. The build (tsup.config.ts) leaves the choice to the package's `#runtime`
 * import map, whose `node` condition picks Node's, so a browser bundle never contains undici or tar
 * (issue 14, item 1) and Node's is there without the user choosing.
 */
export interface Runtime {
  /** The native HTTP client for one `KnifyClient`, or `undefined` where `fetch` is the only way. */
  http(dispatcher: Dispatcher | undefined): NativeHttp | undefined;
  /** A directory as a `.tar.gz` the way `tar -czf - -C dir .` makes it (Node only). */
  archiveDirectory(dir: string, filter: ((path: string) => boolean) | undefined): Promise<Blob>;
  /** Unpacks a `.tar.gz` stream into `dir`, the way `tar -xzf - -C dir` would (Node only). */
  extractArchive(archive: ReadableStream<Uint8Array>, dir: string): Promise<void>;
}

/**
 * How a runtime module makes its {@link Runtime}: given the SDK's `KnifyError`, so that what it throws is an
 * instance of the one class users import, without the runtime importing it. Imported, the class was shared by
 * the main entry, `./webhooks` and the runtimes, and so a chunk of its own: a third file for every cold
 * `import('@knify/sdk')` (~0.9 ms of ~14; issue 11, item 2).
 */
export type CreateRuntime = (errors: { KnifyError: typeof KnifyError }) => Runtime;
