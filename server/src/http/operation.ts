import type { OperationId } from "../generated/operations.js";
import type { operations as OperationTypes } from "../generated/schema.js";
import type { KeyRecord } from "../store/store.js";
import type { CoreRequest, ResponseStream } from "./request.js";

/** What a handler receives: input already authenticated, authorized and validated against the spec. */
export interface RequestInput {
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body: unknown;
  /** The calling key; null only for operations without security. */
  key: KeyRecord | null;
  requestId: string;
  now: number;
  /**
   * The base of absolute `Link` URLs: `KNIFY_PUBLIC_URL`, else a trusted proxy's origin, else "" (links
   * stay relative references).
   */
  linkBase: string;
  /** The plain request, for the few handlers that need more: its path, an upload stream, client-gone. */
  request: CoreRequest;
}

/** A JSON response (`body: undefined` with status 204 sends no body), or a stream with its own Content-Type. */
export interface HandlerResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** A streamed body (server-sent events, an archive); `headers` then carry its Content-Type. */
  stream?: ResponseStream;
}

export type Handler = (input: RequestInput) => Promise<HandlerResult>;

/** One handler per operationId of the spec. */
export type Handlers = Partial<Record<OperationId, Handler>>;

/** The JSON body type of an operation, from the generated spec types. */
export type JsonBody<Id extends keyof OperationTypes> = OperationTypes[Id] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

/** Pulls the principal out of an input of an authenticated operation. */
export function keyOf(input: RequestInput): KeyRecord {
  if (!input.key) throw new Error("operation without security used keyOf()");
  return input.key;
}
