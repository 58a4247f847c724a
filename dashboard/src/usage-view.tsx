import type { components } from "@knify/sdk";
import { useEffect, useState } from "preact/hooks";
import { Problem } from "./problem.js";
import { useSession } from "./session.js";
import { useCall } from "./use-call.js";

type KeyUsage = components["schemas"]["KeyUsage"];
type ApiKey = components["schemas"]["ApiKey"];

/** Usage (admin): requests per key today and this month, from `GET /keys/{key_id}/usage`, as a bar chart. */
export function UsageView() {
  const { client } = useSession();
  const { error, call } = useCall();
  const [rows, setRows] = useState<{ key: ApiKey; usage: KeyUsage }[] | null>(null);
  const [period, setPeriod] = useState<"requests_today" | "requests_this_month">("requests_today");

  useEffect(() => {
    void call(async () => {
      const keys: ApiKey[] = [];
      for await (const key of client.keys.list({ limit: 100 })) if (!key.revoked_at) keys.push(key);
      const usages = await Promise.all(keys.map((key) => client.keys.usage(key.key_id)));
      setRows(keys.map((key, i) => ({ key, usage: usages[i] as KeyUsage })));
    });
  }, []);

  return (
    <section aria-labelledby="usage-title">
      <h1 id="usage-title">Usage</h1>
      <div class="row">
        <label for="usage-period">Period</label>
        <select
          id="usage-period"
          value={period}
          onChange={(event) => setPeriod((event.target as HTMLSelectElement).value as typeof period)}
        >
          <option value="requests_today">today (UTC)</option>
          <option value="requests_this_month">this month (UTC)</option>
        </select>
      </div>
      <Problem shown={error} />
      {rows && (
        <BarChart rows={rows.map(({ key, usage }) => ({ label: key.name, id: key.key_id, value: usage[period] }))} />
      )}
      {rows && (
        <div class="table-wrap">
          <table>
            <caption>Requests per active key</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Today</th>
                <th scope="col">This month</th>
                <th scope="col">Rate limit</th>
                <th scope="col">Last used</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ key, usage }) => (
                <tr key={key.key_id} data-key-id={key.key_id}>
                  <td>{key.name}</td>
                  <td data-field="requests_today">{usage.requests_today}</td>
                  <td data-field="requests_this_month">{usage.requests_this_month}</td>
                  <td>{usage.rate_limit}/min</td>
                  <td>{usage.last_used ? new Date(usage.last_used).toLocaleString() : "never"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Horizontal bars in SVG (no inline style: the CSP forbids it); the numbers are in the table too. */
function BarChart({ rows }: { rows: { label: string; id: string; value: number }[] }) {
  const max = Math.max(1, ...rows.map((row) => row.value));
  const bar = 22;
  const height = rows.length * (bar + 8) + 8;
  return (
    <svg
      class="chart"
      role="img"
      aria-label={`Requests per key: ${rows.map((row) => `${row.label} ${row.value}`).join(", ")}`}
      viewBox={`0 0 600 ${height}`}
      preserveAspectRatio="xMinYMin meet"
    >
      {rows.map((row, i) => {
        const y = 8 + i * (bar + 8);
        const width = Math.max(2, (row.value / max) * 380);
        return (
          <g key={row.id} data-key-id={row.id} data-value={row.value}>
            <text x={0} y={y + bar * 0.7} class="chart-label">
              {row.label.length > 22 ? `${row.label.slice(0, 21)}…` : row.label}
            </text>
            <rect x={170} y={y} width={width} height={bar} class="chart-bar" />
            <text x={176 + width} y={y + bar * 0.7} class="chart-value">
              {row.value}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
