import { monotonicFactory } from "ulid";

const ulid = monotonicFactory();

/** Time-ordered ids (`key_01J…`): sorting by id is sorting by creation, which keyset pagination relies on. */
export function newId(prefix: "key" | "job" | "ws" | "we" | "dlv" | "evt" | "sbx" | "ses"): string {
  return `${prefix}_${ulid()}`;
}
