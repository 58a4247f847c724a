import { useEffect, useState } from "preact/hooks";
import type { Shown } from "./api.js";
import { useCall } from "./use-call.js";

/**
 * Every item of an API list (the SDK's pages followed to the end), read when the view opens and again on
 * `reload()`; `call` runs the view's other API calls with the same error display.
 * @example const { items } = useAll(() => client.workspaces.list({ limit: 100 }));
 */
export function useAll<T>(list: () => AsyncIterable<T>): {
  items: T[] | null;
  error: Shown | null;
  busy: boolean;
  call<R>(run: () => Promise<R>): Promise<R | undefined>;
  reload(): Promise<void>;
} {
  const { error, busy, call } = useCall();
  const [items, setItems] = useState<T[] | null>(null);
  async function reload() {
    const all = await call(async () => {
      const read: T[] = [];
      for await (const item of list()) read.push(item);
      return read;
    });
    if (all) setItems(all);
  }
  useEffect(() => {
    void reload();
  }, []);
  return { items, error, busy, call, reload };
}
