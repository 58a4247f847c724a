import { validationProblem } from "./problem.js";

/** One page of a list, and the `Link` header announcing the next one. */
export interface Page<T> {
  items: T[];
  headers: Record<string, string>;
}

const encodeCursor = (order: number): string =>
  btoa(`o${order}`).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

function decodeCursor(cursor: string): number {
  try {
    const text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const order = /^o(\d+)$/.exec(text)?.[1];
    if (order !== undefined) return Number(order);
  } catch {
    // Falls through to the 400 below: the cursor was not one this mock issued.
  }
  throw validationProblem([
    { location: "query", path: "cursor", message: "is not a cursor from a Link header of this API" },
  ]);
}

/** `<url>; rel="next"` (RFC 8288) for the request URL with `param` set to `value`. */
export function nextLink(url: URL, param: string, value: string): Record<string, string> {
  const next = new URL(url);
  next.searchParams.set(param, value);
  return { Link: `<${next.href}>; rel="next"` };
}

/**
 * Pages a list newest first with `limit` and an opaque `cursor` (the insertion order of the last item seen).
 * `order` gives each item's insertion counter.
 */
export function pageNewestFirst<T>(
  items: Iterable<T>,
  order: (item: T) => number,
  query: Record<string, unknown>,
  url: URL,
): Page<T> {
  const limit = typeof query.limit === "number" ? query.limit : 20;
  const before = typeof query.cursor === "string" ? decodeCursor(query.cursor) : Number.POSITIVE_INFINITY;
  const sorted = [...items].filter((item) => order(item) < before).sort((a, b) => order(b) - order(a));
  const page = sorted.slice(0, limit);
  const last = page.at(-1);
  const headers = sorted.length > limit && last !== undefined ? nextLink(url, "cursor", encodeCursor(order(last))) : {};
  return { items: page, headers };
}
