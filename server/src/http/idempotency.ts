import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import type { Clock } from "../clock.js";
import type { Operation } from "../generated/operations.js";
import type { Store } from "../store/store.js";
import type { HandlerResult } from "./operation.js";
import { ProblemError } from "./problem.js";

/** What the idempotency step needs. */
export interface IdempotencyDeps {
  store: Store;
  clock: Clock;
  config: { replicaId: string; uploadTimeoutMs: number; idempotencyTtlMs: number };
}

/** One POST with an `Idempotency-Key`: the caller's key, the header, and what the request was. */
export interface IdempotentRequest {
  keyId: string;
  idempotencyKey: string;
  method: string;
  path: string;
  raw: Uint8Array | undefined;
  now: number;
}

/** A stored response sent again (`Idempotent-Replayed: true`). */
export interface Replay {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Replays the first response for a repeated Idempotency-Key (same key, method, path and body), refuses a
 * reused key for a different request, and releases the claim when the first attempt hit a server error.
 * The claim is leased to this replica and renewed while the handler runs, so a claim left by a crashed
 * process expires (or is released at this replica's next start) instead of blocking the key for 24 h.
 *
 * Secrets are never cached: fields the spec marks `x-knify-secret` are dropped before the response is
 * stored, and a replay of such a response answers 409 `secret_already_shown` with the object's id, so a
 * secret is shown exactly once and no copy of it rests in the database or its WAL (issue 15, item 1).
 */
export async function withIdempotency(
  deps: IdempotencyDeps,
  op: Operation,
  request: IdempotentRequest,
  run: () => Promise<HandlerResult>,
): Promise<HandlerResult | Replay> {
  const { keyId, idempotencyKey, now } = request;
  const fingerprint = bytesToHex(
    sha256(concatBytes(utf8ToBytes(`${request.method} ${request.path}\n`), request.raw ?? new Uint8Array())),
  );
  const lease = { owner: deps.config.replicaId, leaseMs: deps.config.uploadTimeoutMs };
  const existing = await deps.store.idempotency.claim(
    keyId,
    idempotencyKey,
    fingerprint,
    now,
    deps.config.idempotencyTtlMs,
    lease,
  );
  if (existing) {
    if (existing.fingerprint !== fingerprint) {
      throw new ProblemError(
        "idempotency_key_reused",
        "This Idempotency-Key was already used for a different request (method, path or body differ). Use a new key for a new request.",
      );
    }
    if (!existing.response) {
      throw new ProblemError(
        "idempotency_in_progress",
        "A request with this Idempotency-Key is still being handled; retry shortly to get its result.",
      );
    }
    if (op.secretFields.length > 0) throw secretAlreadyShown(op, existing.response.body);
    return existing.response;
  }
  // Renewing at a third of the lease keeps a live claim from expiring even when one renewal is late.
  const renewal = setInterval(() => {
    deps.store.idempotency.renew(keyId, idempotencyKey, lease, deps.clock.now()).catch(() => undefined);
  }, lease.leaseMs / 3);
  // Node's timers keep the process alive; a browser's or a test runner's have no unref.
  (renewal as { unref?: () => void }).unref?.();
  try {
    const result = await run();
    const status = result.status ?? 200;
    const body = result.body === undefined ? "" : JSON.stringify(withoutSecrets(result.body, op.secretFields));
    await deps.store.idempotency.complete(keyId, idempotencyKey, { status, body, contentType: "application/json" });
    return result;
  } catch (error) {
    // Only successful results are stored. An error releases the claim, so a retry runs again: a client
    // error repeats itself, and a server error gets a second chance.
    await deps.store.idempotency.release(keyId, idempotencyKey);
    throw error;
  } finally {
    clearInterval(renewal);
  }
}

/** Whether the pipeline got a stored response back instead of running the handler. */
export function isReplay(result: HandlerResult | Replay): result is Replay {
  return "contentType" in result;
}

function withoutSecrets(body: unknown, fields: readonly string[]): unknown {
  if (fields.length === 0 || typeof body !== "object" || body === null) return body;
  return Object.fromEntries(Object.entries(body).filter(([name]) => !fields.includes(name)));
}

function secretAlreadyShown(op: Operation, storedBody: string): ProblemError {
  let stored: { key_id?: unknown; id?: unknown } = {};
  try {
    stored = JSON.parse(storedBody) as typeof stored;
  } catch {
    // A stored body is always our own JSON; without it the answer just lacks the id.
  }
  const id = typeof stored.key_id === "string" ? stored.key_id : typeof stored.id === "string" ? stored.id : "";
  const next =
    op.operationId === "createWebhookEndpoint"
      ? `delete endpoint ${id} and register it again to get a new secret`
      : `rotate key ${id} (POST /keys/${id}/rotate) to get a new secret`;
  return new ProblemError(
    "secret_already_shown",
    `The first request with this Idempotency-Key succeeded, and its ${op.secretFields.join(", ")} was shown then; secrets are shown once and never stored, so it cannot be replayed. If it was lost, ${next}.`,
    id ? { resource_id: id } : {},
    { "Idempotent-Replayed": "true" },
  );
}
