import { useState } from "preact/hooks";
import { describeError, type Shown, wasAborted } from "./api.js";
import { useSession } from "./session.js";

/**
 * Runs API calls for a view and keeps the last error to show. A 401 ends the session (back to the key prompt,
 * with the server's reason); any other error stays on the view.
 */
export function useCall(): {
  error: Shown | null;
  busy: boolean;
  call<T>(run: () => Promise<T>): Promise<T | undefined>;
} {
  const { signOut } = useSession();
  const [error, setError] = useState<Shown | null>(null);
  const [busy, setBusy] = useState(false);
  async function call<T>(run: () => Promise<T>): Promise<T | undefined> {
    setBusy(true);
    setError(null);
    try {
      return await run();
    } catch (thrown) {
      if (wasAborted(thrown)) return undefined;
      const shown = describeError(thrown);
      if (shown.unauthenticated) signOut(shown);
      else setError(shown);
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { error, busy, call };
}
