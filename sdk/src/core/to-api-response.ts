import type { APIResponse } from "./api-promise.js";
import { APIError } from "./errors.js";
import { parseRateLimit } from "./rate-limit.js";
import { redactValue } from "./redact.js";

/** What openapi-fetch resolves with: the parsed body as `data` (success) or `error` (failure), and the response. */
export interface RawResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The only place where a response becomes data or an error: a 2xx gives its data with the response,
 * request id and rate-limit state; anything else throws the `APIError` subclass for its status.
 * `secrets` are scrubbed from the error body, so an error message can never carry the key.
 */
export function toAPIResponse<T>(result: RawResult<T>, secrets: readonly string[]): APIResponse<T> {
  const { response } = result;
  if (!response.ok) throw APIError.from(response.status, redactValue(result.error, secrets), response.headers);
  return {
    data: result.data as T,
    response,
    requestId: response.headers.get("x-request-id") ?? undefined,
    rateLimit: parseRateLimit(response.headers),
  };
}
