import type { RateLimitInfo } from "./rate-limit.js";

/** What `.withResponse()` gives: the data plus the raw response and what its headers say. */
export interface APIResponse<T> {
  /** The parsed body, as the method returns it. */
  data: T;
  /** The raw response (its body already read). */
  response: Response;
  /** `X-Request-Id`; quote it to support. */
  requestId: string | undefined;
  /** The key's rate-limit state after this call. */
  rateLimit: RateLimitInfo;
}

/**
 * The promise every method returns: await it for the data, or call `.withResponse()` for the data,
 * the response, the request id and the rate-limit headers. The request starts when the method is called.
 *
 * Subclasses `Promise` so `instanceof Promise` and `await` work; `then` is overridden to read the data
 * from the one underlying request (the pattern of openai-node's `APIPromise`).
 *
 * @example
 * const { data: job, requestId, rateLimit } = await client.jobs.get("job_123").withResponse();
 */
export class APIPromise<T> extends Promise<T> {
  readonly #response: Promise<APIResponse<T>>;
  #data: Promise<T> | undefined;

  constructor(response: Promise<APIResponse<T>>) {
    // The executor's value is never observed: every `then` goes through `#response`.
    super((resolve) => resolve(undefined as T));
    this.#response = response;
  }

  /** The data with the raw response, the request id and the rate-limit state. */
  withResponse(): Promise<APIResponse<T>> {
    return this.#response;
  }

  // biome-ignore lint/suspicious/noThenProperty: a Promise subclass on purpose (see the class comment).
  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#parse().then(onfulfilled, onrejected);
  }

  override catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#parse().catch(onrejected);
  }

  override finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#parse().finally(onfinally);
  }

  // `Promise.prototype.then` etc. build results through `this.constructor[Symbol.species]`; returning the
  // plain `Promise` keeps them from calling our constructor with an executor.
  static override get [Symbol.species]() {
    return Promise;
  }

  #parse(): Promise<T> {
    this.#data ??= this.#response.then((response) => response.data);
    return this.#data;
  }
}
