import type { ValidateFunction } from "ajv";
import * as bodyValidators from "../generated/body-validators.cjs";
import type { Operation } from "../generated/operations.js";
import * as paramValidators from "../generated/params-validators.cjs";
import { isJsonContentType, parseJson } from "./body.js";
import { type FieldError, ProblemError } from "./problem.js";
import { type CoreRequest, headerOf } from "./request.js";
import { check, throwIfInvalid } from "./validate.js";

const validators = { ...paramValidators, ...bodyValidators } as unknown as Record<string, ValidateFunction | undefined>;

/** An operation's input, validated against the spec; `raw` is the JSON body as sent (for idempotency). */
export interface ValidInput {
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body: unknown;
  raw: Uint8Array | undefined;
}

/** The body limits the pipeline reads a JSON body with. */
export interface BodyLimits {
  bodyLimitBytes: number;
  bodyTimeoutMs: number;
}

/**
 * The validation step: path parameters, query, headers and a JSON body (400 listing every problem,
 * 413/415 for the body). The generated validators coerce and fill defaults in place, so handlers get
 * typed values (`limit` a number).
 * @example const input = await readInput(op, request, route.params, config)(); // then input.query.limit
 */
export function inputReader(op: Operation) {
  const paramsValidator = validators[`${op.operationId}Params`];
  const queryValidator = validators[`${op.operationId}Query`];
  const headersValidator = validators[`${op.operationId}Headers`];
  const bodyValidator = validators[`${op.operationId}Body`];

  return async function readInput(
    request: CoreRequest,
    routeParams: Record<string, string>,
    limits: BodyLimits,
  ): Promise<ValidInput> {
    const problems: FieldError[] = [];
    const params = { ...routeParams };
    const query = queryOf(request.search);
    const headers: Record<string, unknown> = {};
    if (paramsValidator) check(paramsValidator, params, "path", problems);
    if (queryValidator) check(queryValidator, query, "query", problems);
    if (headersValidator) {
      for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = value;
      check(headersValidator, headers, "header", problems);
    }

    let body: unknown;
    let raw: Uint8Array | undefined;
    if (op.body === "json") {
      raw = await request.body.read(limits.bodyLimitBytes, limits.bodyTimeoutMs);
      if (raw.length === 0 && !op.bodyRequired) {
        body = {};
      } else {
        if (!isJsonContentType(headerOf(request, "content-type") || undefined)) {
          throw new ProblemError(
            "unsupported_media_type",
            "Send the body as JSON with Content-Type: application/json.",
          );
        }
        body = parseJson(raw);
      }
      if (bodyValidator) check(bodyValidator, body, "body", problems);
    }
    throwIfInvalid(problems);
    return { params, query, headers, body, raw };
  };
}

/**
 * The query as Koa parsed it: a repeated name becomes an array (which the validators then refuse). Defined,
 * not assigned, so a parameter named `__proto__` is a parameter, not the object's prototype.
 */
function queryOf(search: string): Record<string, unknown> {
  if (search === "") return {};
  const params = new URLSearchParams(search);
  const query: Record<string, unknown> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    const value = values.length <= 1 ? values[0] : values;
    Object.defineProperty(query, name, { value, writable: true, enumerable: true, configurable: true });
  }
  return query;
}
