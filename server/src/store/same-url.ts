/**
 * The id of the endpoint among `rows` with the same URL, compared as parsed (so `HTTPS://Host:443/x` is
 * `https://host/x`): the duplicate rule of webhook endpoints, shared by every store.
 */
export function sameUrl(rows: readonly { id: string; url: string }[], url: string): string | null {
  const target = new URL(url).href;
  return rows.find((row) => new URL(row.url).href === target)?.id ?? null;
}
