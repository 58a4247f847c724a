import type { DeliveryFairness } from "../webhooks-repo.js";
import { byNumberThenId, type DeliveryRow, type MemoryTables } from "./tables.js";

const dueOrder = (a: DeliveryRow, b: DeliveryRow) =>
  byNumberThenId([a.nextAttemptAt ?? 0, a.id], [b.nextAttemptAt ?? 0, b.id]);

/**
 * The deliveries `claimDue` may lease now, in the order the SQL stores choose them (see the SQLite
 * `claimDue`): a live lease counts as in flight; a due delivery is eligible while its endpoint, then its
 * workspace, stays within its share once it is added; eligible ones go round-robin over workspaces.
 */
export function claimFairly(t: MemoryTables, now: number, limit: number, fairness: DeliveryFairness): DeliveryRow[] {
  const busyEndpoint = new Map<string, number>();
  const busyWorkspace = new Map<string, number>();
  const dueByEndpoint = new Map<string, DeliveryRow[]>();
  for (const d of t.deliveries.values()) {
    if (d.status !== "pending") continue;
    const endpoint = t.endpoints.get(d.endpointId);
    if (!endpoint) continue;
    if (d.claimedUntil !== null && d.claimedUntil > now) {
      busyEndpoint.set(d.endpointId, (busyEndpoint.get(d.endpointId) ?? 0) + 1);
      busyWorkspace.set(endpoint.workspaceId, (busyWorkspace.get(endpoint.workspaceId) ?? 0) + 1);
    } else if (d.nextAttemptAt !== null && d.nextAttemptAt <= now) {
      const list = dueByEndpoint.get(d.endpointId) ?? [];
      list.push(d);
      dueByEndpoint.set(d.endpointId, list);
    }
  }
  const dueByWorkspace = new Map<string, DeliveryRow[]>();
  for (const [endpointId, due] of dueByEndpoint) {
    const room = fairness.perEndpoint - (busyEndpoint.get(endpointId) ?? 0);
    if (room <= 0) continue;
    const workspaceId = (t.endpoints.get(endpointId) as { workspaceId: string }).workspaceId;
    const list = dueByWorkspace.get(workspaceId) ?? [];
    list.push(...due.sort(dueOrder).slice(0, room));
    dueByWorkspace.set(workspaceId, list);
  }
  const eligible: { row: DeliveryRow; turn: number }[] = [];
  for (const [workspaceId, due] of dueByWorkspace) {
    const room = fairness.perWorkspace - (busyWorkspace.get(workspaceId) ?? 0);
    due.sort(dueOrder);
    for (let turn = 1; turn <= Math.min(room, due.length); turn++)
      eligible.push({ row: due[turn - 1] as DeliveryRow, turn });
  }
  eligible.sort((a, b) => a.turn - b.turn || dueOrder(a.row, b.row));
  return eligible.slice(0, Math.max(0, limit)).map((e) => e.row);
}
