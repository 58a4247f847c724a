import type { IncomingMessage } from "node:http";
import { ProblemError } from "./problem.js";

/**
 * Reads a request body up to `limit` bytes within `timeoutMs`. A declared Content-Length over the limit is
 * refused before reading; a body that grows past it is refused as soon as it does (never buffered whole);
 * a body still incomplete at the deadline gets 408 and its connection is closed (a trickled body would
 * otherwise hold a connection for the whole upload timeout).
 */
export async function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      req.pause();
      reject(
        new ProblemError(
          "request_timeout",
          `The body did not arrive within ${timeoutMs} ms; send the whole body at once, and retry.`,
          {},
          { Connection: "close" },
        ),
      );
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.resume(); // drain the rest so the 413 can be written on a healthy connection
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    function done(): void {
      clearTimeout(timer);
      req.off("data", onData).off("end", onEnd).off("error", onError);
    }
    req.on("data", onData).on("end", onEnd).on("error", onError);
  });
}

function tooLarge(limit: number): ProblemError {
  return new ProblemError("payload_too_large", `The body is over the limit of ${limit} bytes.`);
}

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
export function parseJson(raw: Buffer): unknown {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
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
