import { ProblemError, validationProblem } from "./problem.js";
import type { SpecOperation } from "./spec.js";
import { type FieldError, mediaTypeOf, type RequestValidators } from "./validate.js";

/** The validated input of a request, and a fingerprint of its body for Idempotency-Key comparison. */
export interface RequestInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  headers: Record<string, unknown>;
  body: unknown;
  parts: Record<string, string | Uint8Array>;
  /** Why the multipart body could not be read; raised by the handler, after its own checks (as the server). */
  partsProblem?: ProblemError;
  fingerprint: string;
}

// The same caps the spec's descriptions give: 1 MiB for JSON bodies, 100 MiB for archives.
const JSON_LIMIT = 1_048_576;
const MULTIPART_LIMIT = 100 * 1_048_576;

const isJson = (mediaType: string) => mediaType === "application/json" || /^application\/[^/]+\+json$/.test(mediaType);

/** A short FNV-1a hash: enough to tell two uploaded archives apart in a fingerprint. */
function fnv1a(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(16);
}

function tooLarge(limit: number): ProblemError {
  return new ProblemError("payload_too_large", `The body is over the limit of ${limit} bytes.`);
}

async function readJson(op: SpecOperation, raw: Uint8Array, mediaType: string) {
  if (raw.byteLength === 0) {
    // An optional body may be left out; `{}` lets ajv fill in the schema's defaults.
    return op.body?.required ? { body: undefined, missing: true } : { body: {}, missing: false };
  }
  if (!isJson(mediaType)) {
    throw new ProblemError("unsupported_media_type", "Send the body as application/json.");
  }
  if (raw.byteLength > JSON_LIMIT) throw tooLarge(JSON_LIMIT);
  try {
    return { body: JSON.parse(new TextDecoder().decode(raw)) as unknown, missing: false };
  } catch (error) {
    throw new ProblemError(
      "invalid_json",
      `The body is not valid JSON (${(error as Error).message}). Send a JSON document with Content-Type: application/json.`,
    );
  }
}

async function readMultipart(raw: Uint8Array, contentType: string) {
  if (mediaTypeOf(contentType) !== "multipart/form-data") {
    throw new ProblemError("unsupported_media_type", "Send the body as multipart/form-data.");
  }
  if (raw.byteLength > MULTIPART_LIMIT) throw tooLarge(MULTIPART_LIMIT);
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { "content-type": contentType } }).formData();
  } catch {
    throw validationProblem([{ location: "body", path: "", message: "is not valid multipart/form-data" }]);
  }
  const parts: Record<string, string | Uint8Array> = {};
  for (const [name, value] of form.entries()) {
    parts[name] = typeof value === "string" ? value : new Uint8Array(await value.arrayBuffer());
  }
  return parts;
}

/**
 * Reads and validates a request against its operation: 415 for a body of the wrong media type,
 * 400 `invalid_json` for JSON that does not parse, and one 400 `validation_failed` listing every problem
 * of the path, query, headers and body together.
 */
export async function readInput(
  op: SpecOperation,
  request: Request,
  url: URL,
  rawParams: Record<string, string>,
  validators: RequestValidators,
): Promise<RequestInput> {
  const raw = new Uint8Array(await request.arrayBuffer());
  const contentType = request.headers.get("content-type") ?? "";
  let body: unknown;
  let parts: Record<string, string | Uint8Array> = {};
  let partsProblem: ProblemError | undefined;
  let fingerprint = fnv1a(raw);
  const errors: FieldError[] = [];

  if (op.body && isJson(op.body.mediaType)) {
    const json = await readJson(op, raw, mediaTypeOf(contentType));
    body = json.body;
    if (json.missing) errors.push({ location: "body", path: "", message: "is required" });
  } else if (op.body?.mediaType === "multipart/form-data") {
    // The server reads an upload only once the workspace is known to be the caller's (404 first), so a
    // refusal waits for the handler (`partsProblem`).
    const read = await readMultipart(raw, contentType).catch((error: unknown) => {
      if (error instanceof ProblemError) return error;
      throw error;
    });
    if (read instanceof ProblemError) partsProblem = read;
    else {
      parts = read;
      // Multipart boundaries are random per request, so the fingerprint is made from the parts instead.
      fingerprint = Object.entries(parts)
        .map(
          ([name, value]) =>
            `${name}=${typeof value === "string" ? value : `file:${value.byteLength}:${fnv1a(value)}`}`,
        )
        .join("&");
      // Files stand in as strings: the schema types the archive as a string with a contentMediaType.
      body = Object.fromEntries(Object.entries(parts).map(([n, v]) => [n, typeof v === "string" ? v : "(binary)"]));
    }
  }

  const params: Record<string, unknown> = { ...rawParams };
  const query: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const headers: Record<string, unknown> = {};
  for (const p of op.parameters) {
    const value = p.in === "header" ? request.headers.get(p.name) : null;
    if (value !== null) headers[p.name.toLowerCase()] = value;
  }
  errors.push(...validators.params(op, "path", params));
  errors.push(...validators.params(op, "query", query));
  errors.push(...validators.params(op, "header", headers));
  if (op.body && body !== undefined) errors.push(...validators.body(op, body));
  if (errors.length > 0) throw validationProblem(errors);
  return { params, query, headers, body, parts, fingerprint, ...(partsProblem ? { partsProblem } : {}) };
}
