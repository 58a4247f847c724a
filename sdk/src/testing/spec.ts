/**
 * Reads what the mock needs out of an OpenAPI document: operations, their parameters,
 * request bodies, responses and the permission named by their security requirement.
 * Everything here is derived from the spec at runtime, so the mock cannot drift from it.
 */

/** A JSON Schema object as it appears in the spec. */
export type JsonSchema = Record<string, unknown>;

/** The parts of an OpenAPI 3.1 document the mock reads. Accepts the generated `spec.json` as is. */
export interface OpenApiDocument {
  readonly paths: object;
  readonly components?: object;
  readonly security?: readonly object[];
}

/** The Knify spec as the mock exposes it: an OpenAPI document, typed loosely so declarations stay small. */
export interface KnifySpec extends OpenApiDocument {
  readonly openapi: string;
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly components: Readonly<Record<string, unknown>>;
}

/** One parameter of an operation, with `$ref`s resolved. */
export interface SpecParameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required: boolean;
  schema: JsonSchema;
}

/** One response of an operation: content type → schema (empty for bodiless responses like 204). */
export interface SpecResponse {
  content: Record<string, JsonSchema>;
}

/** One operation of the spec, flattened. */
export interface SpecOperation {
  operationId: string;
  method: string;
  /** The spec path, e.g. `/jobs/{job_id}`. */
  path: string;
  /** False only for operations whose security requirement is empty (`security: []`). */
  auth: boolean;
  /** The role of the bearerAuth requirement, or null when authentication alone is enough. */
  permission: string | null;
  /** `x-knify-self-access: true`: a key may read its own record without the permission. */
  selfAccess: boolean;
  /** Response properties marked `x-knify-secret: true`: shown once, never replayed, sent with `no-store`. */
  secretFields: string[];
  parameters: SpecParameter[];
  /** The request body's media type and schema, if the operation takes one. */
  body: { mediaType: string; required: boolean; schema: JsonSchema } | null;
  responses: Record<string, SpecResponse>;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

type Loose = Record<string, unknown>;

const isObject = (value: unknown): value is Loose => typeof value === "object" && value !== null;

/** Follows local `$ref`s (`#/components/...`) until a non-reference object is reached. */
export function resolveRef(spec: OpenApiDocument, value: unknown): Loose {
  let current = value;
  for (let depth = 0; isObject(current) && typeof current.$ref === "string"; depth++) {
    if (depth > 32) throw new Error(`$ref cycle at ${current.$ref}`);
    const pointer = current.$ref.replace(/^#\//, "").split("/");
    current = pointer.reduce<unknown>(
      (node, part) => (isObject(node) ? node[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined),
      spec,
    );
  }
  if (!isObject(current)) throw new Error("unresolvable $ref in the spec");
  return current;
}

/** The properties marked `x-knify-secret: true` in a schema, through `$ref` and `allOf`. */
function secretFieldsOf(spec: OpenApiDocument, schema: unknown, seen = new Set<unknown>()): string[] {
  if (!isObject(schema)) return [];
  const resolved = resolveRef(spec, schema);
  if (seen.has(resolved)) return [];
  seen.add(resolved);
  const properties = isObject(resolved.properties) ? Object.entries(resolved.properties) : [];
  const own = properties.filter(([, p]) => isObject(p) && resolveRef(spec, p)["x-knify-secret"] === true);
  const parts = Array.isArray(resolved.allOf) ? resolved.allOf : [];
  return [...own.map(([name]) => name), ...parts.flatMap((part) => secretFieldsOf(spec, part, seen))];
}

/** The secret fields of an operation's 2xx JSON responses (the generator computes the same for the server). */
function successSecretFields(spec: OpenApiDocument, responses: unknown): string[] {
  if (!isObject(responses)) return [];
  const names = Object.entries(responses)
    .filter(([status]) => status.startsWith("2"))
    .flatMap(([, response]) => {
      const content = resolveRef(spec, response).content;
      const json = isObject(content) ? content["application/json"] : undefined;
      return isObject(json) ? secretFieldsOf(spec, json.schema) : [];
    });
  return [...new Set(names)].sort();
}

/** Rewrites `#/components/schemas/X` to the `spec#/$defs/X` schema that validate.ts registers with ajv. */
export function rewriteRefs(schema: unknown): JsonSchema {
  return JSON.parse(JSON.stringify(schema ?? {}).replace(/"#\/components\/schemas\//g, '"spec#/$defs/')) as JsonSchema;
}

/** The spec's `components.schemas`, for ajv's `$defs`. */
export function componentSchemas(spec: OpenApiDocument): Record<string, unknown> {
  const components = isObject(spec.components) ? spec.components : {};
  return isObject(components.schemas) ? components.schemas : {};
}

function readParameters(spec: OpenApiDocument, list: unknown): SpecParameter[] {
  if (!Array.isArray(list)) return [];
  return list.map((raw) => {
    const p = resolveRef(spec, raw);
    return {
      name: String(p.name),
      in: p.in as SpecParameter["in"],
      required: p.required === true,
      schema: rewriteRefs(p.schema),
    };
  });
}

function readResponses(spec: OpenApiDocument, raw: unknown): Record<string, SpecResponse> {
  const out: Record<string, SpecResponse> = {};
  for (const [status, value] of Object.entries(isObject(raw) ? raw : {})) {
    const response = resolveRef(spec, value);
    const content: Record<string, JsonSchema> = {};
    for (const [mediaType, media] of Object.entries(isObject(response.content) ? response.content : {})) {
      content[mediaType] = isObject(media) ? rewriteRefs(media.schema) : {};
    }
    out[status] = { content };
  }
  return out;
}

/** Every operation of the spec, in document order. */
export function readOperations(spec: OpenApiDocument): SpecOperation[] {
  const operations: SpecOperation[] = [];
  for (const [path, rawItem] of Object.entries(spec.paths)) {
    const item = resolveRef(spec, rawItem);
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const security = (Array.isArray(op.security) ? op.security : (spec.security ?? [])) as unknown[];
      // Each operation names at most one role (scripts/generate.mjs enforces it); the role is the permission.
      const requirement = security.find((s): s is Loose => isObject(s) && "bearerAuth" in s);
      const roles = requirement && Array.isArray(requirement.bearerAuth) ? requirement.bearerAuth : [];
      const body = op.requestBody === undefined ? null : resolveRef(spec, op.requestBody);
      const bodyContent = body && isObject(body.content) ? Object.entries(body.content) : [];
      const firstBody = bodyContent[0];
      operations.push({
        operationId: String(op.operationId),
        method: method.toUpperCase(),
        path,
        auth: requirement !== undefined,
        permission: typeof roles[0] === "string" ? roles[0] : null,
        selfAccess: op["x-knify-self-access"] === true,
        secretFields: successSecretFields(spec, op.responses),
        parameters: [...readParameters(spec, item.parameters), ...readParameters(spec, op.parameters)],
        body:
          firstBody && body
            ? {
                mediaType: firstBody[0],
                required: body.required === true,
                schema: rewriteRefs(isObject(firstBody[1]) ? firstBody[1].schema : {}),
              }
            : null,
        responses: readResponses(spec, op.responses),
      });
    }
  }
  return operations;
}
