import type { components } from "@knify/sdk";
import { useState } from "preact/hooks";
import { PermissionChecks } from "./permission-checks.js";
import { Problem } from "./problem.js";
import { useSession } from "./session.js";
import { useCall } from "./use-call.js";

type Permission = components["schemas"]["Permission"];

/** The new secret, once: the API never shows it again, so the page says so and offers a copy button. */
export function OneTimeSecret({
  name,
  apiKey,
  oldSecretEnds,
  onDone,
  why = "the server keeps only its hash",
}: {
  name: string;
  apiKey: string;
  oldSecretEnds?: string | undefined;
  onDone(): void;
  /** Why it cannot be shown again. */
  why?: string;
}) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="secret" role="status">
      <p class="warning">
        <strong>Copy the secret of “{name}” now.</strong> It is shown this once: {why}.
      </p>
      {oldSecretEnds && (
        <p>
          The previous secret keeps working until{" "}
          <time dateTime={oldSecretEnds} data-testid="old-secret-ends">
            {new Date(oldSecretEnds).toLocaleString()}
          </time>
          : replace it everywhere before then.
        </p>
      )}
      <label for="new-secret">Secret</label>
      <div class="row">
        <input id="new-secret" readOnly value={apiKey} onFocus={(e) => (e.target as HTMLInputElement).select()} />
        <button
          type="button"
          onClick={async () => {
            await navigator.clipboard.writeText(apiKey);
            setCopied(true);
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          I have saved it
        </button>
      </div>
    </div>
  );
}

export function CreateKey({ onCreated }: { onCreated(key: components["schemas"]["CreatedKey"]): Promise<void> }) {
  const { client } = useSession();
  const { error, busy, call } = useCall();
  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const chosen = form.getAll("permissions") as Permission[];
    const workspace = String(form.get("workspace_id") ?? "").trim();
    const rate = String(form.get("rate_limit") ?? "").trim();
    const created = await call(() =>
      client.keys.create({
        name: String(form.get("name") ?? ""),
        type: form.get("type") === "test" ? "test" : "live",
        ...(chosen.length > 0 ? { permissions: chosen } : {}),
        ...(workspace ? { workspace_id: workspace } : {}),
        ...(rate ? { rate_limit: Number(rate) } : {}),
      }),
    );
    if (created) {
      (event.target as HTMLFormElement).reset();
      await onCreated(created);
    }
  }
  return (
    <details class="panel">
      <summary>Create a key</summary>
      <form onSubmit={submit} class="grid">
        <label for="key-name">Name</label>
        <input id="key-name" name="name" required maxLength={200} />
        <label for="key-type">Type</label>
        <select id="key-type" name="type">
          <option value="live">live</option>
          <option value="test">test</option>
        </select>
        <label for="key-workspace">Workspace id (optional)</label>
        <input id="key-workspace" name="workspace_id" placeholder="ws_…" />
        <label for="key-rate">Rate limit per minute (optional)</label>
        <input id="key-rate" name="rate_limit" type="number" min={1} inputMode="numeric" />
        <PermissionChecks legend="Permissions (none checked: every permission except admin:all)" checked={[]} />
        <button type="submit" disabled={busy}>
          Create key
        </button>
      </form>
      <Problem shown={error} />
    </details>
  );
}
