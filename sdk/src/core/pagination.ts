import { APIPromise, type APIResponse } from "./api-promise.js";
import { KnifyError } from "./knify-error.js";

/** One page of a list: the items, the raw response and the next page's URL (from `Link: rel="next"`). */
export interface Page<T> extends APIResponse<T[]> {
  /** The next page, or `undefined` on the last page. */
  nextURL: URL | undefined;
}

/** Fetches the page at a `Link` URL. */
export type FetchPage<T> = (url: URL) => Promise<Page<T>>;

/**
 * What every list method returns. Await it for one page (a bare array, as the API returns it), or iterate
 * it with `for await` to get every item of every page: it follows `Link: <…>; rel="next"` until there is none.
 *
 * @example
 * const firstPage = await client.jobs.list({ limit: 50 });
 * for await (const job of client.jobs.list({ status: "running" })) console.log(job.id);
 */
export class PagePromise<T> extends APIPromise<T[]> implements AsyncIterable<T> {
  readonly #first: Promise<Page<T>>;
  readonly #fetchPage: FetchPage<T>;

  constructor(first: Promise<Page<T>>, fetchPage: FetchPage<T>) {
    super(first);
    this.#first = first;
    this.#fetchPage = fetchPage;
  }

  /** Every page in turn, starting with this one, each with its response. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let page = await this.#first;
    yield page;
    // A server that links a page to itself (or to an earlier one) would otherwise loop forever.
    const seen = new Set<string>();
    while (page.nextURL) {
      if (seen.has(page.nextURL.href))
        throw new KnifyError(`Pagination loop: ${page.nextURL.href} was already fetched.`);
      seen.add(page.nextURL.href);
      page = await this.#fetchPage(page.nextURL);
      yield page;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.data;
  }
}
