/** Request headers a browser sets itself (the Fetch standard's forbidden request-headers the SDK may send). */
const FORBIDDEN = new Set(["user-agent", "content-length", "connection", "host", "keep-alive", "accept-encoding"]);

/**
 * A `fetch` for the SDK (its `fetch` option) that sends through XMLHttpRequest, whose `upload.onprogress`
 * reports the bytes sent: `fetch` itself says nothing about an upload's progress (and Chromium streams a
 * request body only over HTTP/2). Everything else stays the SDK's: the Bearer header, the multipart body,
 * errors as `APIError`s with the problem and request id.
 * @example client.withOptions({ fetch: progressFetch((sent, total) => show(sent / total)) }).workspaces.upload(…)
 */
export function progressFetch(onProgress: (sent: number, total: number) => void): typeof fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const xhr = new XMLHttpRequest();
      xhr.open(init.method ?? "GET", url);
      xhr.responseType = "arraybuffer";
      for (const [name, value] of new Headers(init.headers)) {
        // fetch drops the headers a page may not set (the SDK's User-Agent) quietly; XHR logs an error for each.
        if (!FORBIDDEN.has(name)) xhr.setRequestHeader(name, value);
      }
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      };
      xhr.onload = () =>
        resolve(
          new Response(xhr.status === 204 || xhr.status === 304 ? null : (xhr.response as ArrayBuffer), {
            status: xhr.status,
            statusText: xhr.statusText,
            headers: parseHeaders(xhr.getAllResponseHeaders()),
          }),
        );
      // Like fetch: a request that got no answer rejects with a TypeError (the SDK reports it as a connection error).
      xhr.onerror = () => reject(new TypeError("Failed to fetch"));
      xhr.ontimeout = () => reject(new TypeError("Failed to fetch"));
      xhr.onabort = () => reject(init.signal?.reason ?? new DOMException("The upload was aborted.", "AbortError"));
      init.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send((init.body ?? null) as XMLHttpRequestBodyInit | null);
    });
}

function parseHeaders(raw: string): Headers {
  const headers = new Headers();
  for (const line of raw.trim().split(/[\r\n]+/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return headers;
}
