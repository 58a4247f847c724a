import type { OperationId } from "../generated/operations.js";
import type { BodyDefaults, QueryDefaults } from "../generated/query-defaults.js";
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

/** A handler of any operation, as the pipeline calls it (its input validated against that operation). */
export type Handler = (input: RequestInput) => Promise<HandlerResult>;

/** The handler of operation `Id`: its input typed from the spec (see {@link Input}). */
export type OperationHandler<Id extends OperationId> = (input: Input<Id>) => Promise<HandlerResult>;

/** One handler per operationId of the spec, each typed by its operation. */
export type Handlers = { [Id in OperationId]?: OperationHandler<Id> };

/** The JSON body type of an operation, from the generated spec types. */
export type JsonBody<Id extends keyof OperationTypes> = OperationTypes[Id] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

type Parameters<Id extends OperationId, Where extends "query" | "path"> = NonNullable<
  OperationTypes[Id]["parameters"][Where]
>;

/** Operation `Id`'s query; parameters with a spec `default` are always there (the validator fills them in). */
export type Query<Id extends OperationId> = Id extends keyof QueryDefaults
  ? Defaulted<Parameters<Id, "query">, QueryDefaults[Id]>
  : Parameters<Id, "query">;

/** `T` with the fields `K` present (a validator with `useDefaults` filled them in). */
type Defaulted<T, K extends PropertyKey> = Omit<T, K> & Required<Pick<T, K & keyof T>>;

/**
 * What operation `Id`'s handler receives: a {@link RequestInput} whose body, query and path parameters have
 * the spec's types (they passed the generated validators), so handlers need no casts on their input.
 * @example const handler: OperationHandler<"createJob"> = async (input) => input.body.spec.prompt …
 */
export type Input<Id extends OperationId> = RequestInput & {
  body: Id extends keyof BodyDefaults ? Defaulted<JsonBody<Id>, BodyDefaults[Id]> : JsonBody<Id>;
  query: Query<Id>;
  params: Parameters<Id, "path">;
};

/** Pulls the principal out of an input of an authenticated operation. */
export function keyOf(input: RequestInput): KeyRecord {
  if (!input.key) throw new Error("operation without security used keyOf()");
  return input.key;
}
