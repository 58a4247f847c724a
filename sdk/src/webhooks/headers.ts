/**
 * Request headers as frameworks hand them over: a Fetch `Headers`, or a plain object such as Node's
 * `req.headers` (any name case; a repeated header may arrive as an array).
 */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

interface HeaderGetter {
  get(name: string): string | null;
}

/** One header's value, case-insensitively; repeated values are joined with ", " as `Headers.get` joins them. */
export function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  // Duck-typed rather than `instanceof Headers`, so undici's or a polyfill's Headers from another realm work too.
  if (typeof (headers as Partial<HeaderGetter>).get === "function") {
    return (headers as HeaderGetter).get(name) ?? undefined;
  }
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    if (typeof value === "string") values.push(value);
    else values.push(...value);
  }
  return values.length === 0 ? undefined : values.join(", ");
}
