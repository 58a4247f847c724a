/**
 * The `rel="next"` target of an RFC 8288 `Link` header, resolved against `base`; `undefined` when there
 * is none. Handles several links in one header, quoted or bare `rel`, and `rel` lists (`rel="next last"`).
 */
export function nextLink(header: string | null, base: string): URL | undefined {
  if (!header) return undefined;
  for (const match of header.matchAll(/<([^>]*)>([^,<]*)/g)) {
    const [, target = "", params = ""] = match;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s,]+))/i.exec(params);
    const relations = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (relations.includes("next")) return new URL(target, base);
  }
  return undefined;
}
