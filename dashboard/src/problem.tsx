import type { Shown } from "./api.js";

/** An API error as the user sees it: title, detail, request id (for support), and when to retry after a 429. */
export function Problem({ shown }: { shown: Shown | null }) {
  if (!shown) return null;
  return (
    <div class="problem" role="alert">
      <strong>{shown.title}</strong>
      <p>{shown.detail}</p>
      {shown.retryAfter !== undefined && <p class="retry">Rate limited: retry in {shown.retryAfter} s.</p>}
      {shown.requestId && (
        <p class="request-id">
          Request id: <code>{shown.requestId}</code>
        </p>
      )}
    </div>
  );
}
