import type { ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import * as ajvFormats from "ajv-formats";
import { operations } from "../../../server/src/generated/operations.js";
import { createRouter } from "../../../server/src/http/router.js";

/** The parts of an OpenAPI 3.1 document the validator reads. Accepts the generated `spec.json` as is. */
export interface OpenApiDocument {
  readonly paths: object;
  readonly components?: object;
}

/** The Knify spec as the mock exposes it: an OpenAPI document, typed loosely so declarations stay small. */
export interface KnifySpec extends OpenApiDocument {
  readonly openapi: string;
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly components: Readonly<Record<string, unknown>>;
}

/** Checks a response body against the spec; returns the problems found (empty when it conforms). */
export type ResponseValidator = (operationId: string, status: number, body: unknown, contentType?: string) => string[];

/** Thrown when the mock is about to answer something the spec does not allow: a bug in the mock. */
export class MockSpecViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MockSpecViolation";
  }
}

type Loose = Record<string, unknown>;
const isObject = (value: unknown): value is Loose => typeof value === "object" && value !== null;

/** Follows local `$ref`s (`#/components/...`) until a non-reference object is reached. */
function resolveRef(spec: OpenApiDocument, value: unknown): Loose {
  let current = value;
  for (let depth = 0; isObject(current) && typeof current.$ref === "string" && depth < 32; depth++) {
    current = current.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce<unknown>((node, part) => (isObject(node) ? node[part] : undefined), spec);
  }
  if (!isObject(current)) throw new Error("unresolvable $ref in the spec");
  return current;
}

/** `#/components/schemas/X` → `spec#/$defs/X`, the id under which the schemas are registered with ajv. */
const rewriteRefs = (schema: unknown): Loose =>
  JSON.parse(JSON.stringify(schema ?? {}).replace(/"#\/components\/schemas\//g, '"spec#/$defs/')) as Loose;

/** Every operation's documented responses: status → media type → schema (none for bodiless ones). */
function responsesByOperation(spec: OpenApiDocument): Map<string, Record<string, Record<string, Loose>>> {
  const byOperation = new Map<string, Record<string, Record<string, Loose>>>();
  for (const item of Object.values(spec.paths)) {
    for (const op of Object.values(resolveRef(spec, item))) {
      if (!isObject(op) || typeof op.operationId !== "string") continue;
      const responses: Record<string, Record<string, Loose>> = {};
      for (const [status, raw] of Object.entries(isObject(op.responses) ? op.responses : {})) {
        const content = resolveRef(spec, raw).content;
        responses[status] = Object.fromEntries(
          Object.entries(isObject(content) ? content : {}).map(([type, media]) => [
            type,
            rewriteRefs(isObject(media) ? media.schema : {}),
          ]),
        );
      }
      byOperation.set(op.operationId, responses);
    }
  }
  return byOperation;
}

// ajv-formats is CommonJS with `exports.default`; under NodeNext the namespace's `default` is the plugin
// in TypeScript but may be the module object at runtime, depending on the loader's interop.
type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const formatsModule = ajvFormats as unknown as { default: FormatsPlugin | { default: FormatsPlugin } };
const addFormats: FormatsPlugin =
  typeof formatsModule.default === "function" ? formatsModule.default : formatsModule.default.default;

/** An Ajv 2020 instance that knows the spec's schemas as `spec#/$defs/<Name>` (the server's generator does the same). */
function createAjv(spec: OpenApiDocument): Ajv2020 {
  // strictTypes off: the if/then branches of JobTypeRules legitimately omit `type`.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
  addFormats(ajv);
  ajv.addVocabulary(["example", "discriminator", "xml", "externalDocs", "x-knify-error-codes", "x-knify-secret"]);
  ajv.addKeyword({
    keyword: "x-knify-max-bytes",
    type: "string",
    schemaType: "number",
    validate: (max: number, data: string) => new TextEncoder().encode(data).length <= max,
  });
  const components = isObject(spec.components) ? spec.components : {};
  ajv.addSchema({ $id: "spec", $defs: rewriteRefs(components.schemas) });
  return ajv;
}

/**
 * Validates responses against the spec: the status must be documented for the operation, the content type
 * must be one the spec lists for it, and the body must match its schema. Schemas compile on first use.
 *
 * @example
 * const check = responseValidator(mock.spec);
 * expect(check("getJob", res.status, await res.json(), res.headers.get("content-type") ?? undefined)).toEqual([]);
 */
export function responseValidator(spec: OpenApiDocument): ResponseValidator {
  const operations = responsesByOperation(spec);
  let ajv: Ajv2020 | undefined;
  const compiled = new Map<string, ValidateFunction>();
  return (operationId, status, body, contentType) => {
    const responses = operations.get(operationId);
    if (!responses) return [`the spec has no operation ${operationId}`];
    const content = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
    if (!content) {
      const documented = Object.keys(responses).join(", ");
      return [`${operationId} does not document status ${status} (documented: ${documented})`];
    }
    const mediaTypes = Object.keys(content);
    if (mediaTypes.length === 0) {
      const empty = body === undefined || body === null || body === "";
      return empty ? [] : [`${operationId} ${status} has no body in the spec, but one was sent`];
    }
    const mediaType = contentType
      ? (contentType.split(";")[0]?.trim().toLowerCase() ?? "")
      : mediaTypes.includes("application/json")
        ? "application/json"
        : (mediaTypes[0] ?? "");
    const schema = content[mediaType];
    if (!schema) {
      const documented = mediaTypes.join(" or ");
      return [`${operationId} ${status} is documented as ${documented}, not ${contentType ?? "no content type"}`];
    }
    const cacheKey = `${operationId} ${status} ${mediaType}`;
    let validate = compiled.get(cacheKey);
    if (!validate) {
      ajv ??= createAjv(spec);
      validate = ajv.compile(schema);
      compiled.set(cacheKey, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${operationId} ${status} body${e.instancePath} ${e.message ?? "is invalid"}`,
    );
  };
}

const router = createRouter(operations);

/**
 * Wraps a fetch handler so that it refuses to answer what the spec does not allow: each such response is
 * recorded in `violations` and thrown as a {@link MockSpecViolation} (msw then answers 500) — a bug in the mock.
 * Requests the spec has no operation for (404, 405) are answered as they are.
 */
export function checkResponses(
  handle: (request: Request) => Promise<Response>,
  basePath: string,
  validate: ResponseValidator,
  violations: string[],
): (request: Request) => Promise<Response> {
  return async (request) => {
    const response = await handle(request);
    const path = new URL(request.url).pathname.slice(basePath.length) || "/";
    let operationId: string;
    try {
      operationId = router.route(request.method, path).op.operationId;
    } catch {
      return response;
    }
    const contentType = response.headers.get("content-type") ?? undefined;
    // Streams (events, archives) are checked for their status and media type only: their schema is a string.
    const stream = /^(text\/event-stream|application\/gzip)/.test(contentType ?? "");
    const text = stream ? "" : await response.clone().text();
    const body = stream ? "" : text !== "" && contentType?.includes("json") ? JSON.parse(text) : text || undefined;
    const problems = validate(operationId, response.status, body, text || stream ? contentType : undefined);
    if (problems.length === 0) return response;
    const message = `Knify mock answered ${request.method} ${path} with a response the spec does not allow:\n  ${problems.join("\n  ")}`;
    violations.push(message);
    throw new MockSpecViolation(message);
  };
}
