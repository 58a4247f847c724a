import {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  KnifyClient,
  RateLimitError,
} from "@knify/sdk";

/**
 * The dashboard's client: the SDK itself, to this page's own origin (the server that served it), so no CORS
 * is involved. No retries: a person is watching and the error is shown instead.
 */
export function makeClient(apiKey: string): KnifyClient {
  return new KnifyClient(apiKey, { baseURL: location.origin, maxRetries: 0 });
}

/** What the page shows for a failed call: the problem's title and detail, its request id, when to retry. */
export interface Shown {
  title: string;
  detail: string;
  requestId?: string | undefined;
  retryAfter?: number | undefined;
  /** A 401: the key is gone (revoked, expired, mistyped); the app returns to the key prompt. */
  unauthenticated: boolean;
}

/** Turns anything a call threw into what the page shows; never swallows it. */
export function describeError(error: unknown): Shown {
  if (error instanceof APIError) {
    return {
      title: error.problem?.title ?? `HTTP ${error.status}`,
      detail: error.problem?.detail ?? error.message,
      requestId: error.requestId,
      retryAfter: error instanceof RateLimitError ? error.retryAfter : undefined,
      unauthenticated: error instanceof AuthenticationError,
    };
  }
  if (error instanceof APIConnectionError) {
    return { title: "The server did not answer", detail: error.message, unauthenticated: false };
  }
  return { title: "Unexpected error", detail: String(error), unauthenticated: false };
}

/** A request the page itself stopped (the view changed): nothing to show. */
export function wasAborted(error: unknown): boolean {
  return error instanceof APIUserAbortError;
}
