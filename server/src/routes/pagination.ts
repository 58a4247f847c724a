import type { ParameterizedContext } from "koa";
import { requestOrigin } from "../http/forwarded.js";
import { ProblemError } from "../http/problem.js";

/** Cursors are opaque to clients: base64url of the last id of the previous page. */
export function decodeCursor(cursor: unknown): string | undefined {
  if (typeof cursor !== "string" || cursor === "") return undefined;
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[a-z]+_[A-Za-z0-9]{1,64}$/.test(id)) {
    throw new ProblemError("validation_failed", "The cursor is not one this server issued; start again without it.", {
      errors: [{ location: "query", path: "cursor", message: "is not a valid cursor" }],
    });
  }
  return id;
}

/**
 * Fetches one item more than the page size to know whether a next page exists, and announces it with an
 * RFC 8288 `Link: <url>; rel="next"` that keeps every other query parameter.
 */
export function page<T>(ctx: ParameterizedContext, items: T[], limit: number, idOf: (item: T) => string) {
  const hasMore = items.length > limit;
  const pageItems = hasMore ? items.slice(0, limit) : items;
  const headers: Record<string, string> = {};
  const last = pageItems.at(-1);
  if (hasMore && last !== undefined) {
    const url = new URL(ctx.originalUrl, requestOrigin(ctx));
    url.searchParams.set("cursor", Buffer.from(idOf(last)).toString("base64url"));
    url.searchParams.set("limit", String(limit));
    headers.Link = `<${url.toString()}>; rel="next"`;
  }
  return { body: pageItems, headers };
}
