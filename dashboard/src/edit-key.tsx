import type { components } from "@knify/sdk";
import { PermissionChecks } from "./permission-checks.js";
import { Problem } from "./problem.js";
import { useSession } from "./session.js";
import { useCall } from "./use-call.js";

type ApiKey = components["schemas"]["ApiKey"];
type Permission = components["schemas"]["Permission"];

/**
 * Changes a key's name, permissions and rate limit in place (`PATCH /keys/{key_id}`): the next request with
 * it obeys them. The server's grant rule applies (no more than the caller holds), and its 403 is shown here.
 */
export function EditKey({ apiKey, onDone }: { apiKey: ApiKey; onDone(changed: boolean): Promise<void> }) {
  const { client } = useSession();
  const { error, busy, call } = useCall();
  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const permissions = form.getAll("permissions") as Permission[];
    const updated = await call(() =>
      client.keys.update(apiKey.key_id, {
        name: String(form.get("name") ?? ""),
        rate_limit: Number(form.get("rate_limit")),
        ...(permissions.length > 0 ? { permissions } : {}),
      }),
    );
    if (updated) await onDone(true);
  }
  return (
    <section class="panel" aria-labelledby="edit-key-title">
      <h2 id="edit-key-title">Edit “{apiKey.name}”</h2>
      <form onSubmit={submit} class="grid" key={apiKey.key_id}>
        <label for="edit-name">Name</label>
        <input id="edit-name" name="name" required maxLength={200} defaultValue={apiKey.name} />
        <label for="edit-rate">Rate limit per minute</label>
        <input
          id="edit-rate"
          name="rate_limit"
          type="number"
          min={1}
          required
          inputMode="numeric"
          defaultValue={String(apiKey.rate_limit)}
        />
        <PermissionChecks legend="Permissions" checked={apiKey.permissions} />
        <div class="row">
          <button type="submit" disabled={busy}>
            Save changes
          </button>
          <button type="button" class="secondary" onClick={() => onDone(false)}>
            Cancel
          </button>
        </div>
      </form>
      <Problem shown={error} />
    </section>
  );
}
