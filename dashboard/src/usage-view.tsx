import type { components } from "@knify/sdk";
import { useEffect, useMemo, useState } from "preact/hooks";
import { Problem } from "./problem.js";
import { can, useSession } from "./session.js";
import { UsageChart, type UsageSeries } from "./usage-chart.js";
import { useCall } from "./use-call.js";

type KeyUsage = components["schemas"]["KeyUsage"];
type ApiKey = components["schemas"]["ApiKey"];
/** What the view shows of a key: an admin lists keys, any other key knows only itself (from verify). */
type KeyShown = Pick<ApiKey, "key_id" | "name"> & { prefix?: string };

/** How many UTC days the charts show (the API gives up to 90). */
const DAYS = 30;

/**
 * Usage: requests per day over the last 30 days, from `GET /keys/{key_id}/usage?days=30`, for one key and
 * (admin) for all active keys stacked; and each key's requests today and this month. A key without
 * `admin:all` sees its own usage only, which the API lets every key read.
 */
export function UsageView() {
  const { client, key: signedIn } = useSession();
  const admin = can(signedIn, "admin:all");
  const { error, call } = useCall();
  const [rows, setRows] = useState<{ key: KeyShown; usage: KeyUsage }[] | null>(null);
  const [chosen, setChosen] = useState<string>("");

  useEffect(() => {
    void call(async () => {
      const keys: KeyShown[] = [];
      if (admin) {
        for await (const key of client.keys.list({ limit: 100 })) if (!key.revoked_at) keys.push(key);
      } else keys.push({ key_id: signedIn.key_id, name: signedIn.name });
      const usages = await Promise.all(keys.map((key) => client.keys.usage(key.key_id, { days: DAYS })));
      setRows(keys.map((key, i) => ({ key, usage: usages[i] as KeyUsage })));
      setChosen((current) => current || keys[0]?.key_id || "");
    });
  }, []);

  // Every key's series ends today with the same days; the first one's dates label them all.
  const days = useMemo(() => rows?.[0]?.usage.daily?.map((day) => day.date) ?? [], [rows]);
  const all = useMemo<UsageSeries[]>(
    () =>
      (rows ?? []).map(({ key, usage }) => ({
        id: key.key_id,
        label: key.name,
        values: (usage.daily ?? []).map((day) => day.requests),
      })),
    [rows],
  );
  const one = useMemo(() => all.filter((series) => series.id === chosen), [all, chosen]);

  return (
    <section aria-labelledby="usage-title">
      <h1 id="usage-title">Usage</h1>
      <Problem shown={error} />
      {rows && rows.length > 0 && (
        <>
          <h2>One key</h2>
          <div class="row">
            <label for="usage-key">Key</label>
            <select
              id="usage-key"
              value={chosen}
              onChange={(event) => setChosen((event.target as HTMLSelectElement).value)}
            >
              {rows.map(({ key }) => (
                <option value={key.key_id} key={key.key_id}>
                  {key.prefix ? `${key.name} (${key.prefix}…)` : key.name}
                </option>
              ))}
            </select>
          </div>
          {one.length === 1 && (
            <UsageChart id="usage-one" caption={one[0]?.label ?? ""} days={days} series={one} key={chosen} />
          )}
          {admin && (
            <>
              <h2>All keys, stacked</h2>
              <UsageChart id="usage-all" caption="All active keys" days={days} series={all} />
            </>
          )}
        </>
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
