import { useState } from "preact/hooks";
import { describeError, makeClient, type Shown } from "./api.js";
import { Problem } from "./problem.js";
import type { Session } from "./session.js";

/**
 * Asks for an API key and checks it with `GET /keys/verify`. The key stays in this page's memory only:
 * never localStorage, sessionStorage or a cookie, so a reload asks again (issue 12).
 */
export function KeyPrompt({
  onSignedIn,
  reason,
}: {
  onSignedIn(session: Omit<Session, "signOut">): void;
  reason: Shown | null;
}) {
  const [apiKey, setApiKey] = useState("");
  const [error, setError] = useState<Shown | null>(reason);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const client = makeClient(apiKey.trim());
      const key = await client.keys.verify();
      setApiKey("");
      onSignedIn({ client, key });
    } catch (thrown) {
      setError(describeError(thrown));
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="prompt">
      <h1>Knify dashboard</h1>
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="knify_live_…"
          value={apiKey}
          onInput={(event) => setApiKey((event.target as HTMLInputElement).value)}
          required
        />
        <p class="hint">Kept in this tab's memory only: reloading the page asks for it again.</p>
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
      <Problem shown={error} />
    </main>
  );
}
