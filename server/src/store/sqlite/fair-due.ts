/**
 * The fair choice of due deliveries for `claimDue` (#15 item 6): one tenant's slow receivers must not hold
 * every delivery slot. A live lease (claimed_until in the future, any replica) counts as in flight. A due
 * delivery is eligible while its endpoint, and then its workspace, stays within its share once it is added;
 * eligible ones are taken round-robin: every workspace's oldest first, then every workspace's second oldest,
 * and so on. Parameters: @now, @per_endpoint, @per_workspace, @limit.
 */
export const FAIR_DUE_SQL = `WITH live_endpoint AS MATERIALIZED (
         -- Pinned to the small leases index: without statistics the planner would walk every delivery.
         SELECT endpoint_id, count(*) AS n FROM webhook_deliveries INDEXED BY webhook_deliveries_leased
         WHERE claimed_until > @now AND status = 'pending' GROUP BY endpoint_id
       ),
       live_workspace AS MATERIALIZED (
         SELECT w.workspace_id, sum(l.n) AS n FROM live_endpoint l JOIN webhook_endpoints w ON w.id = l.endpoint_id
         GROUP BY w.workspace_id
       ),
       open_endpoint AS (
         SELECT w.id, w.workspace_id, coalesce(l.n, 0) AS busy
         FROM webhook_endpoints w LEFT JOIN live_endpoint l ON l.endpoint_id = w.id
         WHERE coalesce(l.n, 0) < @per_endpoint
       ),
       -- Only each endpoint's oldest few due deliveries are candidates (an index walk each), so the work
       -- grows with the number of endpoints, not with the backlog.
       due AS (
         SELECT d.id, d.next_attempt_at, e.workspace_id,
           ROW_NUMBER() OVER (PARTITION BY e.id ORDER BY d.next_attempt_at, d.id) + e.busy AS endpoint_load
         FROM open_endpoint e JOIN webhook_deliveries d ON d.id IN (
           SELECT x.id FROM webhook_deliveries x
           WHERE x.endpoint_id = e.id AND x.status = 'pending' AND x.next_attempt_at <= @now
             AND (x.claimed_until IS NULL OR x.claimed_until <= @now)
           ORDER BY x.next_attempt_at, x.id LIMIT @per_endpoint
         )
       ),
       eligible AS (
         SELECT due.id, due.next_attempt_at, coalesce(lw.n, 0) AS workspace_busy,
           ROW_NUMBER() OVER (PARTITION BY due.workspace_id ORDER BY due.next_attempt_at, due.id) AS turn
         FROM due LEFT JOIN live_workspace lw ON lw.workspace_id = due.workspace_id
         WHERE due.endpoint_load <= @per_endpoint
       )
       SELECT id FROM eligible WHERE turn + workspace_busy <= @per_workspace
       ORDER BY turn, next_attempt_at, id LIMIT @limit`;
