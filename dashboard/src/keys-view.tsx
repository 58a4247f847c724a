import type { components } from "@knify/sdk";
import { useEffect, useState } from "preact/hooks";
import { Problem } from "./problem.js";
import { useSession } from "./session.js";
import { specEnums } from "./spec.js";
import { useCall } from "./use-call.js";

type ApiKey = components["schemas"]["ApiKey"];
type KeyUsage = components["schemas"]["KeyUsage"];
type Permission = components["schemas"]["Permission"];

/**
 * Keys (admin): every key with its limits, last use and requests today and this month; create one or rotate
 * one (the secret shown once), revoke one after a confirmation.
 */
export function KeysView() {
  const { client } = useSession();
  const { error, call } = useCall();
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [usage, setUsage] = useState<Record<string, KeyUsage>>({});
  const [secret, setSecret] = useState<{ name: string; apiKey: string; oldSecretEnds?: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);

  async function load() {
    const all: ApiKey[] = [];
    const done = await call(async () => {
      for await (const key of client.keys.list({ limit: 100 })) all.push(key);
      return true;
    });
    if (!done) return;
    setKeys(all);
    // One call per active key: the API has no bulk usage read.
    const active = all.filter((key) => !key.revoked_at);
    const counts = await call(() => Promise.all(active.map((key) => client.keys.usage(key.key_id))));
    if (counts) setUsage(Object.fromEntries(counts.map((count) => [count.key_id, count])));
  }
  useEffect(() => {
    void load();
  }, []);

  async function rotate(key: ApiKey) {
    const rotated = await call(() => client.keys.rotate(key.key_id));
    if (!rotated) return;
    setSecret({ name: rotated.name, apiKey: rotated.api_key, oldSecretEnds: rotated.previous_secret_expires_at });
    await load();
  }

  async function revoke(key: ApiKey) {
    const revoked = await call(() => client.keys.revoke(key.key_id));
    setConfirming(null);
    if (revoked) await load();
  }

  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">API keys</h1>
      <Problem shown={error} />
      {secret && <OneTimeSecret {...secret} onDone={() => setSecret(null)} />}
      <CreateKey
        onCreated={async (created) => {
          setSecret({ name: created.name, apiKey: created.api_key });
          await load();
        }}
      />
      <div class="table-wrap">
        <table>
          <caption>Keys, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Workspace</th>
              <th scope="col">Permissions</th>
              <th scope="col">Rate limit</th>
              <th scope="col">Last used</th>
              <th scope="col">Today</th>
              <th scope="col">This month</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys?.map((key) => (
              <tr key={key.key_id} data-key-id={key.key_id}>
                <td>
                  {key.name}
                  <br />
                  <code class="muted">{key.prefix}…</code>
                </td>
                <td>{key.type}</td>
                <td>{key.workspace_id ?? "—"}</td>
                <td>{key.permissions.join(", ")}</td>
                <td>{key.rate_limit}/min</td>
                <td>{key.last_used ? new Date(key.last_used).toLocaleString() : "never"}</td>
                <td data-field="requests_today">{usage[key.key_id]?.requests_today ?? "—"}</td>
                <td data-field="requests_this_month">{usage[key.key_id]?.requests_this_month ?? "—"}</td>
                <td>{key.revoked_at ? "revoked" : "active"}</td>
                <td>
                  {!key.revoked_at &&
                    (confirming === key.key_id ? (
                      <fieldset class="confirm">
                        <legend class="visually-hidden">Confirm revoking {key.name}</legend>
                        <button type="button" class="danger" onClick={() => revoke(key)}>
                          Yes, revoke {key.name}
                        </button>
                        <button type="button" class="secondary" onClick={() => setConfirming(null)}>
                          Cancel
                        </button>
                      </fieldset>
                    ) : (
                      <span class="row-actions">
                        <button type="button" class="secondary" onClick={() => rotate(key)}>
                          Rotate
                        </button>
                        <button type="button" class="secondary" onClick={() => setConfirming(key.key_id)}>
                          Revoke
                        </button>
                      </span>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The new secret, once: the API never shows it again, so the page says so and offers a copy button. */
function OneTimeSecret({
  name,
  apiKey,
  oldSecretEnds,
  onDone,
}: {
  name: string;
  apiKey: string;
  oldSecretEnds?: string | undefined;
  onDone(): void;
}) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="secret" role="status">
      <p class="warning">
        <strong>Copy the secret of “{name}” now.</strong> It is shown this once: the server keeps only its hash.
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

function CreateKey({ onCreated }: { onCreated(key: components["schemas"]["CreatedKey"]): Promise<void> }) {
  const { client } = useSession();
  const { error, busy, call } = useCall();
  const [permissions, setPermissions] = useState<string[]>([]);
  useEffect(() => {
    void specEnums().then((enums) => setPermissions(enums.permissions));
  }, []);
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
        <fieldset>
          <legend>Permissions (none checked: every permission except admin:all)</legend>
          {permissions.map((permission) => (
            <label class="check" key={permission}>
              <input type="checkbox" name="permissions" value={permission} /> {permission}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={busy}>
          Create key
        </button>
      </form>
      <Problem shown={error} />
    </details>
  );
}
