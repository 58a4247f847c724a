import { ProblemError } from "./problem.js";

/** Whether a Content-Type header names JSON (`application/json` or `application/*+json`, any parameters). */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const type = header.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

/**
 * How deep a JSON body may nest (the spec's "Input limits"). Free-form fields such as `metadata` would
 * otherwise carry thousands of levels into recursive code (validation, serialisation) and a 500.
 */
export const MAX_JSON_DEPTH = 32;

/** Parses a JSON body, turning a syntax error or too deep a nesting into a 400 that says where. */
export function parseJson(raw: Uint8Array): unknown {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { ignoreBOM: true }).decode(raw));
  } catch (error) {
    throw new ProblemError("invalid_json", `The body is not valid JSON: ${(error as Error).message}.`);
  }
  const deep = tooDeepAt(value, MAX_JSON_DEPTH);
  if (deep !== null) {
    throw new ProblemError(
      "validation_failed",
      `The body nests deeper than ${MAX_JSON_DEPTH} levels (at ${deep}); flatten it.`,
      { errors: [{ location: "body", path: deep, message: `nests deeper than ${MAX_JSON_DEPTH} levels` }] },
    );
  }
  return value;
}

/** The JSON Pointer of the first value nested deeper than `max`, or null. Iterative: no stack to overflow. */
function tooDeepAt(root: unknown, max: number): string | null {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: root, depth: 0, path: "" }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop() as (typeof stack)[number];
    if (typeof value !== "object" || value === null) continue;
    if (depth >= max) return path || "/";
    for (const [name, child] of Object.entries(value)) {
      stack.push({ value: child, depth: depth + 1, path: `${path}/${name.replace(/~/g, "~0").replace(/\//g, "~1")}` });
    }
  }
  return null;
}
