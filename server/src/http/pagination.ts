import { fromBase64url, toBase64url } from "./base64url.js";
import type { RequestInput } from "./operation.js";
import { ProblemError } from "./problem.js";

/** Cursors are opaque to clients: base64url of the last id of the previous page. */
export function decodeCursor(cursor: unknown): string | undefined {
  if (typeof cursor !== "string" || cursor === "") return undefined;
  const id = fromBase64url(cursor);
  if (!/^[a-z]+_[A-Za-z0-9]{1,64}$/.test(id)) {
    throw new ProblemError("validation_failed", "The cursor is not one this server issued; start again without it.", {
      errors: [{ location: "query", path: "cursor", message: "is not a valid cursor" }],
    });
  }
  return id;
}

/**
 * The `Link: <…>; rel="next"` header (RFC 8288) of a page: the request's path and query with `next` set.
 * The one place list links are built. The target is absolute under `KNIFY_PUBLIC_URL` when configured,
 * else under the origin a trusted proxy reports (`KNIFY_TRUST_PROXY=1`, issue 8 item 6), else a relative reference (§3.2: resolved against the request's URL) — never built from `Host`, which
 * the client controls: a missing or malformed one gave a 500, a foreign one was reflected (issue 15, item 9).
 */
export function nextPageLink(input: Pick<RequestInput, "request" | "linkBase">, next: Record<string, string>): string {
  const query = new URLSearchParams(input.request.search);
  for (const [name, value] of Object.entries(next)) query.set(name, value);
  // One leading slash: "//host/…" would be a network-path reference to another origin.
  const path = `/${input.request.path.replace(/^\/+/, "")}`;
  return `<${input.linkBase}${path}?${query.toString()}>; rel="next"`;
}

/**
 * Fetches one item more than the page size to know whether a next page exists, and announces it with
 * {@link nextPageLink}, keeping every other query parameter.
 */
export function page<T>(
  input: Pick<RequestInput, "request" | "linkBase">,
  items: T[],
  limit: number,
  idOf: (item: T) => string,
) {
  const hasMore = items.length > limit;
  const pageItems = hasMore ? items.slice(0, limit) : items;
  const headers: Record<string, string> = {};
  const last = pageItems.at(-1);
  if (hasMore && last !== undefined) {
    headers.Link = nextPageLink(input, {
      cursor: toBase64url(idOf(last)),
      limit: String(limit),
    });
  }
  return { body: pageItems, headers };
}
