/**
 * The fair choice of due deliveries for `claimDue`, the PostgreSQL form of the SQLite store's query (see
 * `sqlite/fair-due.ts` for the rule): live leases count per endpoint and workspace; each endpoint offers its
 * oldest due within its share (a LATERAL index walk, so the work grows with endpoints, not the backlog);
 * workspaces take turns. Parameters: $1 now, $2 per endpoint, $3 per workspace, $4 limit.
 */
export const FAIR_DUE_SQL = `
  WITH live_endpoint AS MATERIALIZED (
    SELECT endpoint_id, count(*) AS n FROM webhook_deliveries
    WHERE claimed_until > $1 AND status = 'pending' GROUP BY endpoint_id
  ),
  live_workspace AS MATERIALIZED (
    SELECT w.workspace_id, sum(l.n) AS n FROM live_endpoint l JOIN webhook_endpoints w ON w.id = l.endpoint_id
    GROUP BY w.workspace_id
  ),
  open_endpoint AS (
    SELECT w.id, w.workspace_id, coalesce(l.n, 0) AS busy
    FROM webhook_endpoints w LEFT JOIN live_endpoint l ON l.endpoint_id = w.id
    WHERE coalesce(l.n, 0) < $2
  ),
  due AS (
    SELECT d.id, d.next_attempt_at, e.workspace_id,
      ROW_NUMBER() OVER (PARTITION BY e.id ORDER BY d.next_attempt_at, d.id) + e.busy AS endpoint_load
    FROM open_endpoint e CROSS JOIN LATERAL (
      SELECT x.id, x.next_attempt_at FROM webhook_deliveries x
      WHERE x.endpoint_id = e.id AND x.status = 'pending' AND x.next_attempt_at <= $1
        AND (x.claimed_until IS NULL OR x.claimed_until <= $1)
      ORDER BY x.next_attempt_at, x.id LIMIT $2
    ) d
  ),
  eligible AS (
    SELECT due.id, due.next_attempt_at, coalesce(lw.n, 0) AS workspace_busy,
      ROW_NUMBER() OVER (PARTITION BY due.workspace_id ORDER BY due.next_attempt_at, due.id) AS turn
    FROM due LEFT JOIN live_workspace lw ON lw.workspace_id = due.workspace_id
    WHERE due.endpoint_load <= $2
  )
  SELECT id FROM eligible WHERE turn + workspace_busy <= $3
  ORDER BY turn, next_attempt_at, id LIMIT $4`;
