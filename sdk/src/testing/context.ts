import { notFound, type ProblemError } from "./problem.js";
import type { KeyRecord } from "./records.js";
import type { SpecOperation } from "./spec.js";
import type { MockState } from "./state.js";

/** A request that passed routing, authentication, the permission check and validation. */
export interface MockRequest {
  op: SpecOperation;
  /** The original request (headers such as `Accept`, and its abort signal). */
  raw: Request;
  url: URL;
  /** Path parameters, validated. */
  params: Record<string, unknown>;
  /** Query parameters, validated, coerced to the spec's types and with defaults filled in. */
  query: Record<string, unknown>;
  /** The operation's header parameters (lower-case names), validated. */
  headers: Record<string, unknown>;
  /** The parsed JSON body, validated and with defaults filled in (`{}` when an optional body was absent). */
  body: unknown;
  /** The parts of a `multipart/form-data` body: text fields as strings, files as bytes. */
  parts: Record<string, string | Uint8Array>;
  /** Why the multipart body could not be read (the workspace handlers raise it after their own checks). */
  partsProblem?: ProblemError;
  /** The calling key, for operations that need one. */
  key: KeyRecord | null;
}

/** What an operation handler answers; the router adds the common headers and checks it against the spec. */
export interface MockResult {
  status: number;
  body?: unknown;
  /** Defaults to `application/json` when there is a body. */
  contentType?: string;
  headers?: Record<string, string>;
  /** A streamed body (server-sent events, or `contentType` such as a `.tar.gz`); `body` is then ignored. */
  stream?: ReadableStream<Uint8Array>;
}

/** Implements one operation of the spec, named by its operationId. */
export type OperationHandler = (req: MockRequest, state: MockState) => MockResult | Promise<MockResult>;

/** Handlers by operationId. */
export type OperationHandlers = Record<string, OperationHandler>;

/** Whether the calling key may see objects of `workspaceId` (keys without a workspace see everything). */
export function canSee(key: KeyRecord | null, workspaceId: string | null): boolean {
  const scope = key?.key.workspace_id ?? null;
  return scope === null || scope === workspaceId;
}

/**
 * Looks an object up and hides it when it lives in a workspace the key cannot see: the spec answers 404,
 * never 403, so that other tenants' objects do not leak their existence.
 */
export function findVisible<T>(
  map: ReadonlyMap<string, T>,
  id: string,
  workspaceOf: (item: T) => string | null,
  key: KeyRecord | null,
  kind: string,
): T {
  const item = map.get(id);
  if (item === undefined || !canSee(key, workspaceOf(item))) throw notFound(kind, id);
  return item;
}

/** 200 with a JSON body. */
export const ok = (body: unknown, headers: Record<string, string> = {}): MockResult => ({ status: 200, body, headers });
