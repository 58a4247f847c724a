import type { components } from "@knify/sdk";
import { useEffect, useState } from "preact/hooks";
import { Problem } from "./problem.js";
import { can, useSession } from "./session.js";
import { TableHead } from "./table-head.js";
import { useCall } from "./use-call.js";

type Endpoint = components["schemas"]["WebhookEndpoint"];
type Delivery = components["schemas"]["WebhookDelivery"];

/** How often the page reads the deliveries again while one of them is still pending. */
const REFRESH_MS = 1500;

/**
 * One webhook endpoint and its deliveries, newest first, each with its attempts (when, the receiver's status or
 * the error, how long); with `workspaces:write`, send a test event and redeliver any delivery. While a delivery
 * is pending the list is read again every 1.5 s, so attempts appear as the server makes them.
 */
export function EndpointView({ endpointId }: { endpointId: string }) {
  const { client, key } = useSession();
  const { error, call } = useCall();
  const [endpoint, setEndpoint] = useState<Endpoint | null>(null);
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const writable = can(key, "workspaces:write");

  async function load() {
    const read = await call(async () => {
      const [one, page] = await Promise.all([
        client.webhookEndpoints.get(endpointId),
        client.webhookEndpoints.deliveries(endpointId, { limit: 50 }).pages().next(),
      ]);
      return { one, list: page.value?.data ?? [] };
    });
    if (!read) return;
    setEndpoint(read.one);
    setDeliveries(read.list);
  }
  useEffect(() => {
    void load();
  }, [endpointId]);
  const pending = deliveries?.some((delivery) => delivery.status === "pending") ?? false;
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(() => void load(), REFRESH_MS);
    return () => clearTimeout(timer);
  }, [deliveries]);

  async function act(run: () => Promise<Delivery>) {
    if (await call(run)) await load();
  }

  return (
    <section aria-labelledby="endpoint-title">
      <p>
        <a href="#/webhooks">← Webhook endpoints</a>
      </p>
      <h1 id="endpoint-title" class="url-cell">
        {endpoint ? endpoint.url : <code>{endpointId}</code>}
      </h1>
      {endpoint && (
        <dl class="facts">
          <dt>Id</dt>
          <dd>
            <code>{endpoint.id}</code>
          </dd>
          <dt>Workspace</dt>
          <dd>
            <code>{endpoint.workspace_id}</code>
          </dd>
          <dt>Events</dt>
          <dd>{endpoint.event_types.length === 0 ? "all" : endpoint.event_types.join(", ")}</dd>
          <dt>State</dt>
          <dd>
            {endpoint.enabled
              ? "enabled"
              : `disabled${endpoint.disabled_reason ? `: ${endpoint.disabled_reason}` : ""}`}
          </dd>
        </dl>
      )}
      <div class="row">
        {writable && (
          <button type="button" onClick={() => act(() => client.webhookEndpoints.test(endpointId))}>
            Send test event
          </button>
        )}
        <button type="button" class="secondary" onClick={() => load()}>
          Refresh
        </button>
      </div>
      <Problem shown={error} />
      <div class="table-wrap">
        <table class="stack" aria-busy={pending}>
          <caption>Deliveries, newest first{pending ? " (refreshing while one is pending)" : ""}</caption>
          <TableHead columns={["Event", "Status", "Attempts", "Next attempt"]} actions />
          <tbody>
            {deliveries?.map((delivery) => (
              <tr key={delivery.id} data-delivery-id={delivery.id}>
                <td data-label="Event">
                  {delivery.event_type}
                  <br />
                  <code class="muted">{delivery.event_id}</code>
                  <br />
                  <small class="muted">{new Date(delivery.created_at).toLocaleString()}</small>
                </td>
                <td data-label="Status">
                  <span class={`status ${delivery.status}`} data-field="status">
                    {delivery.status}
                  </span>
                </td>
                <td data-label="Attempts">
                  <span data-field="attempt_count">{delivery.attempt_count}</span>
                  {delivery.attempts.length > 0 && (
                    <ol class="attempts" aria-label={`Attempts of ${delivery.id}`}>
                      {delivery.attempts.map((attempt) => (
                        <li key={attempt.at} data-field="attempt">
                          <time dateTime={attempt.at}>{new Date(attempt.at).toLocaleTimeString()}</time>:{" "}
                          {attempt.status_code !== null
                            ? `HTTP ${attempt.status_code}`
                            : (attempt.error ?? "no answer")}{" "}
                          <span class="muted">({attempt.duration_ms} ms)</span>
                        </li>
                      ))}
                    </ol>
                  )}
                </td>
                <td data-label="Next attempt">
                  {delivery.next_attempt_at ? new Date(delivery.next_attempt_at).toLocaleString() : "—"}
                </td>
                <td>
                  {writable && (
                    <button
                      type="button"
                      class="secondary"
                      aria-label={`Redeliver ${delivery.event_type} (${delivery.id})`}
                      onClick={() => act(() => client.webhookEndpoints.redeliver(endpointId, delivery.id))}
                    >
                      Redeliver
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {deliveries?.length === 0 && (
              <tr>
                <td colSpan={5}>No deliveries yet{writable ? ": send a test event." : "."}</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
