import { idempotencyCases } from "./cases/idempotency.js";
import { jobCases } from "./cases/jobs.js";
import { keyCases } from "./cases/keys.js";
import { requestCases } from "./cases/requests.js";
import { sandboxCases } from "./cases/sandboxes.js";
import { webhookCases } from "./cases/webhooks.js";
import { workspaceCases } from "./cases/workspaces.js";
import type { StoreTarget } from "./target.js";

/**
 * The store contract: the same cases for every `Store` (memory, SQLite, PostgreSQL). Each target file is a
 * few lines that say how to open an empty store; a behaviour the server relies on is written here once.
 */
export function storeContract(target: StoreTarget): void {
  keyCases(target);
  requestCases(target);
  idempotencyCases(target);
  workspaceCases(target);
  jobCases(target);
  sandboxCases(target);
  webhookCases(target);
}
