import type { ErrorObject, ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import * as ajvFormats from "ajv-formats";
import { describe } from "../../../server/src/http/validate.js";
import {
  componentSchemas,
  type JsonSchema,
  type OpenApiDocument,
  readOperations,
  rewriteRefs,
  type SpecOperation,
  type SpecParameter,
} from "./spec.js";

/** One problem found in a request, as the spec's `FieldError`. */
export interface FieldError {
  location: "body" | "query" | "path" | "header";
  path: string;
  message: string;
}

/** Checks a response body against the spec; returns the problems found (empty when it conforms). */
export type ResponseValidator = (operationId: string, status: number, body: unknown, contentType?: string) => string[];

// ajv-formats is CommonJS with `exports.default`; under NodeNext the namespace's `default` is the plugin
// in TypeScript but may be the module object at runtime, depending on the loader's interop.
type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const formatsModule = ajvFormats as unknown as { default: FormatsPlugin | { default: FormatsPlugin } };
const addFormats: FormatsPlugin =
  typeof formatsModule.default === "function" ? formatsModule.default : formatsModule.default.default;

/**
 * An Ajv 2020 instance that knows the spec's schemas as `spec#/$defs/<Name>` (adding the whole document
 * fails in strict mode on the unknown keyword `components`). `strictTypes` is off because the if/then
 * branches of JobTypeRules legitimately omit `type`.
 */
export function createAjv(spec: OpenApiDocument, options: { coerceTypes?: boolean; useDefaults?: boolean } = {}) {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictRequired: false,
    strictTypes: false,
    useDefaults: options.useDefaults ?? false,
    coerceTypes: options.coerceTypes ?? false,
  });
  addFormats(ajv);
  ajv.addVocabulary(["example", "discriminator", "xml", "externalDocs", "x-knify-error-codes", "x-knify-secret"]);
  // A cap in UTF-8 bytes (maxLength counts code points), as scripts/generate.mjs defines it for the server.
  ajv.addKeyword({
    keyword: "x-knify-max-bytes",
    type: "string",
    schemaType: "number",
    error: { message: (cxt) => `must be at most ${String(cxt.schema)} bytes in UTF-8` },
    validate: (max: number, data: string) => new TextEncoder().encode(data).length <= max,
  });
  ajv.addSchema({ $id: "spec", $defs: rewriteRefs(componentSchemas(spec)) });
  return ajv;
}

/** `application/json; charset=utf-8` → `application/json`. */
export const mediaTypeOf = (contentType: string | null | undefined): string =>
  (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";

/**
 * Validates response bodies against the spec: the status must be documented for the operation, the content
 * type must be one the spec lists for it, and the body must match its schema. Schemas compile lazily.
 *
 * @example
 * const check = responseValidator(spec);
 * expect(check("getJob", res.status, await res.json(), res.headers.get("content-type") ?? undefined)).toEqual([]);
 */
export function responseValidator(spec: OpenApiDocument): ResponseValidator {
  const operations = new Map(readOperations(spec).map((op) => [op.operationId, op]));
  let ajv: Ajv2020 | undefined;
  const compiled = new Map<string, ValidateFunction>();
  return (operationId, status, body, contentType) => {
    const op = operations.get(operationId);
    if (!op) return [`the spec has no operation ${operationId}`];
    const response = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
    if (!response) {
      return [
        `${operationId} does not document status ${status} (documented: ${Object.keys(op.responses).join(", ")})`,
      ];
    }
    const mediaTypes = Object.keys(response.content);
    if (mediaTypes.length === 0) {
      const empty = body === undefined || body === null || body === "";
      return empty ? [] : [`${operationId} ${status} has no body in the spec, but one was sent`];
    }
    const mediaType = contentType
      ? mediaTypeOf(contentType)
      : mediaTypes.includes("application/json")
        ? "application/json"
        : mediaTypes[0];
    if (!mediaType || !(mediaType in response.content)) {
      return [
        `${operationId} ${status} is documented as ${mediaTypes.join(" or ")}, not ${contentType ?? "no content type"}`,
      ];
    }
    const cacheKey = `${operationId} ${status} ${mediaType}`;
    let validate = compiled.get(cacheKey);
    if (!validate) {
      ajv ??= createAjv(spec);
      validate = ajv.compile(response.content[mediaType] ?? {});
      compiled.set(cacheKey, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${operationId} ${status} body${e.instancePath} ${e.message ?? "is invalid"}`,
    );
  };
}

/**
 * Turns ajv errors into the spec's FieldErrors with the server's own rule (`describe`), dropping the
 * redundant `must match "then" schema` ones.
 */
export function fieldErrors(location: FieldError["location"], errors: ErrorObject[] | null | undefined): FieldError[] {
  return (errors ?? []).filter((e) => e.keyword !== "if").map((e) => describe(e, location));
}

/** Per-operation request validators: parameters (coerced from strings, defaults filled) and JSON bodies. */
export interface RequestValidators {
  /** Validates and coerces `values` in place; returns the problems found. */
  params(op: SpecOperation, location: "path" | "query" | "header", values: Record<string, unknown>): FieldError[];
  /** Validates a parsed JSON body (defaults filled in place); returns the problems found. */
  body(op: SpecOperation, body: unknown): FieldError[];
}

function paramsSchema(parameters: SpecParameter[], location: string): JsonSchema {
  const selected = parameters.filter((p) => p.in === location);
  const name = (p: SpecParameter) => (location === "header" ? p.name.toLowerCase() : p.name);
  return {
    type: "object",
    properties: Object.fromEntries(selected.map((p) => [name(p), p.schema])),
    required: selected.filter((p) => p.required).map(name),
    // Same rule as the server's generated validators: unknown query parameters and headers pass.
    additionalProperties: location !== "path",
  };
}

/** Builds request validators that compile each operation's schemas on first use. */
export function requestValidators(spec: OpenApiDocument): RequestValidators {
  let paramAjv: Ajv2020 | undefined;
  let bodyAjv: Ajv2020 | undefined;
  const cache = new Map<string, ValidateFunction>();
  const compile = (key: string, make: () => ValidateFunction) => {
    let fn = cache.get(key);
    if (!fn) {
      fn = make();
      cache.set(key, fn);
    }
    return fn;
  };
  return {
    params(op, location, values) {
      if (!op.parameters.some((p) => p.in === location)) return [];
      const validate = compile(`${op.operationId} ${location}`, () => {
        // Parameters arrive as strings, so they are coerced to the spec's types.
        paramAjv ??= createAjv(spec, { coerceTypes: true, useDefaults: true });
        return paramAjv.compile(paramsSchema(op.parameters, location));
      });
      return validate(values) ? [] : fieldErrors(location, validate.errors);
    },
    body(op, body) {
      if (!op.body) return [];
      const schema = op.body.schema;
      const validate = compile(`${op.operationId} body`, () => {
        bodyAjv ??= createAjv(spec, { useDefaults: true });
        return bodyAjv.compile(schema);
      });
      return validate(body) ? [] : fieldErrors("body", validate.errors);
    },
  };
}
