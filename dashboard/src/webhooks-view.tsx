import type { components } from "@knify/sdk";
import { useEffect, useState } from "preact/hooks";
import { OneTimeSecret } from "./create-key.js";
import { Problem } from "./problem.js";
import { can, useSession } from "./session.js";
import { specEnums } from "./spec.js";
import { TableHead } from "./table-head.js";
import { useAll } from "./use-all.js";
import { useCall } from "./use-call.js";

type Endpoint = components["schemas"]["WebhookEndpoint"];
type Workspace = components["schemas"]["Workspace"];

/**
 * Webhook endpoints (`workspaces:read`): every endpoint the key can see, each linking to its deliveries; with
 * `workspaces:write`, register one (its signing secret shown once) and send it a test event.
 */
export function WebhooksView() {
  const { client, key } = useSession();
  const { items: endpoints, error, call, reload } = useAll(() => client.webhookEndpoints.list({ limit: 100 }));
  const [sent, setSent] = useState<{ endpoint: string; delivery: string } | null>(null);
  const writable = can(key, "workspaces:write");

  async function test(endpoint: Endpoint) {
    const delivery = await call(() => client.webhookEndpoints.test(endpoint.id));
    if (delivery) setSent({ endpoint: endpoint.id, delivery: delivery.id });
  }

  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhook endpoints</h1>
      {writable && <CreateEndpoint onCreated={reload} />}
      <Problem shown={error} />
      {sent && (
        <p role="status">
          Test event queued as delivery <code>{sent.delivery}</code>:{" "}
          <a href={`#/webhooks/${sent.endpoint}`}>see its attempts</a>.
        </p>
      )}
      <div class="table-wrap">
        <table class="stack">
          <caption>Endpoints, newest first</caption>
          <TableHead columns={["URL", "Workspace", "Events", "State"]} actions />
          <tbody>
            {endpoints?.map((endpoint) => (
              <tr key={endpoint.id} data-endpoint-id={endpoint.id}>
                <td class="url-cell">
                  <a href={`#/webhooks/${endpoint.id}`}>{endpoint.url}</a>
                  {endpoint.description && <small class="muted"> {endpoint.description}</small>}
                </td>
                <td data-label="Workspace">
                  <code>{endpoint.workspace_id}</code>
                </td>
                <td data-label="Events">
                  {endpoint.event_types.length === 0 ? "all" : endpoint.event_types.join(", ")}
                </td>
                <td data-label="State">
                  {endpoint.enabled
                    ? "enabled"
                    : `disabled${endpoint.disabled_reason ? `: ${endpoint.disabled_reason}` : ""}`}
                </td>
                <td>
                  <span class="row-actions">
                    <a class="button-link" href={`#/webhooks/${endpoint.id}`}>
                      Deliveries
                    </a>
                    {writable && (
                      <button type="button" class="secondary" onClick={() => test(endpoint)}>
                        Send test event
                      </button>
                    )}
                  </span>
                </td>
              </tr>
            ))}
            {endpoints?.length === 0 && (
              <tr>
                <td colSpan={5}>No webhook endpoints yet.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Registers an endpoint: URL, the workspace whose events it gets (a key without one must name it), events. */
function CreateEndpoint({ onCreated }: { onCreated(): Promise<void> }) {
  const { client, key } = useSession();
  const { error, busy, call } = useCall();
  // A key without a workspace names one: those it can see, but a preset is read-only.
  const scoped = key.workspace_id !== null;
  const listed = useAll(() => (scoped ? noWorkspaces() : client.workspaces.list({ limit: 100 })));
  const workspaces = (listed.items ?? []).filter((workspace) => !workspace.preset);
  const [eventTypes, setEventTypes] = useState<string[]>([]);
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  useEffect(() => {
    void specEnums().then((enums) => setEventTypes(enums.webhookEventTypes));
  }, []);

  async function submit(event: Event) {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const fields = new FormData(form);
    const description = String(fields.get("description") ?? "").trim();
    const workspace = String(fields.get("workspace_id") ?? "");
    const chosen = fields.getAll("event_types").map(String);
    const created = await call(() =>
      client.webhookEndpoints.create({
        url: String(fields.get("url") ?? "").trim(),
        ...(chosen.length > 0 ? { event_types: chosen as Endpoint["event_types"] } : {}),
        ...(description ? { description } : {}),
        ...(workspace ? { workspace_id: workspace } : {}),
      }),
    );
    if (!created) return;
    form.reset();
    setSecret({ url: created.url, secret: created.secret });
    await onCreated();
  }

  return (
    <>
      {secret && (
        <OneTimeSecret
          name={secret.url}
          apiKey={secret.secret}
          why="your receiver needs it to verify each delivery's signature"
          onDone={() => setSecret(null)}
        />
      )}
      <details class="panel">
        <summary>Register an endpoint</summary>
        <form onSubmit={submit} class="grid">
          <label for="endpoint-url">URL</label>
          <input id="endpoint-url" name="url" type="url" required maxLength={2048} placeholder="https://…" />
          {!scoped && (
            <>
              <label for="endpoint-workspace">Workspace</label>
              <select id="endpoint-workspace" name="workspace_id" required>
                {workspaces.map((workspace) => (
                  <option value={workspace.workspace_id} key={workspace.workspace_id}>
                    {workspace.name} ({workspace.workspace_id})
                  </option>
                ))}
              </select>
              {listed.items && workspaces.length === 0 ? (
                <small class="hint">
                  An endpoint gets one workspace's events: <a href="#/workspaces">upload a workspace</a> first.
                </small>
              ) : null}
            </>
          )}
          <label for="endpoint-description">Description (optional)</label>
          <input id="endpoint-description" name="description" maxLength={500} />
          <fieldset>
            <legend>Events (none checked: all)</legend>
            {eventTypes.map((type) => (
              <label class="check" key={type}>
                <input type="checkbox" name="event_types" value={type} /> {type}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={busy}>
            Register endpoint
          </button>
        </form>
        <Problem shown={error ?? listed.error} />
      </details>
    </>
  );
}

/** A workspace-scoped key's endpoints go to its own workspace: nothing to list. */
async function* noWorkspaces(): AsyncIterable<Workspace> {}
