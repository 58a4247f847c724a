import type { components } from "@knify/sdk";
import { useEffect, useState } from "preact/hooks";
import { CreateKey, OneTimeSecret } from "./create-key.js";
import { EditKey } from "./edit-key.js";
import { Problem } from "./problem.js";
import { useSession } from "./session.js";
import { TableHead } from "./table-head.js";
import { useCall } from "./use-call.js";

type ApiKey = components["schemas"]["ApiKey"];
type KeyUsage = components["schemas"]["KeyUsage"];

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
  const [editing, setEditing] = useState<ApiKey | null>(null);

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
      {editing && (
        <EditKey
          apiKey={editing}
          onDone={async (changed) => {
            setEditing(null);
            if (changed) await load();
          }}
        />
      )}
      <div class="table-wrap">
        <table class="stack">
          <caption>Keys, newest first</caption>
          <TableHead
            columns={[
              "Name",
              "Type",
              "Workspace",
              "Permissions",
              "Rate limit",
              "Last used",
              "Today",
              "This month",
              "Status",
            ]}
            actions
          />
          <tbody>
            {keys?.map((key) => (
              <tr key={key.key_id} data-key-id={key.key_id}>
                <td>
                  {key.name}
                  <br />
                  <code class="muted">{key.prefix}…</code>
                </td>
                <td data-label="Type">{key.type}</td>
                <td data-label="Workspace">{key.workspace_id ?? "—"}</td>
                <td data-label="Permissions">{key.permissions.join(", ")}</td>
                <td data-label="Rate limit">{key.rate_limit}/min</td>
                <td data-label="Last used">{key.last_used ? new Date(key.last_used).toLocaleString() : "never"}</td>
                <td data-label="Today" data-field="requests_today">
                  {usage[key.key_id]?.requests_today ?? "—"}
                </td>
                <td data-label="This month" data-field="requests_this_month">
                  {usage[key.key_id]?.requests_this_month ?? "—"}
                </td>
                <td data-label="Status">{key.revoked_at ? "revoked" : "active"}</td>
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
                        <button type="button" class="secondary" onClick={() => setEditing(key)}>
                          Edit
                        </button>
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
