import { ProblemError } from "../http/problem.js";
import type { AuthenticatedKey, Store } from "../store/store.js";
import { hashApiKey, parseApiKey } from "./key-format.js";

const challenge = (error?: "invalid_token") => ({
  // RFC 6750 §3: no error attribute when no credentials were sent.
  "WWW-Authenticate": error ? `Bearer realm="knify", error="${error}"` : 'Bearer realm="knify"',
});

function unauthorized(detail: string, error?: "invalid_token"): ProblemError {
  return new ProblemError("unauthorized", detail, {}, challenge(error));
}

/**
 * Resolves `Authorization: Bearer <key>` to a live key, or throws 401. Unknown, revoked and expired keys
 * get the same answer, so the response says nothing about which keys exist.
 */
export async function authenticate(
  header: string | undefined,
  store: Store,
  now: number,
  headerCount = header ? 1 : 0,
): Promise<AuthenticatedKey> {
  // Node keeps only the first of several Authorization headers; which one a proxy or the client meant is
  // anyone's guess, so the request is refused rather than authenticated by one of them (issue 15, item 9).
  if (headerCount > 1) {
    throw new ProblemError(
      "validation_failed",
      `The request has ${headerCount} Authorization headers; send exactly one: "Authorization: Bearer <your API key>".`,
      { errors: [{ location: "header", path: "authorization", message: "must appear once" }] },
    );
  }
  if (!header) {
    throw unauthorized('The request has no Authorization header. Send "Authorization: Bearer <your API key>".');
  }
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (!match?.[1]) {
    throw unauthorized(
      'The Authorization header must use the Bearer scheme: "Authorization: Bearer <your API key>".',
      "invalid_token",
    );
  }
  const apiKey = match[1];
  // Format and checksum first: a mistyped or truncated key is refused without touching the store.
  if (!parseApiKey(apiKey)) {
    throw unauthorized(
      "The API key is malformed: Knify keys look like knify_live_… or knify_test_… and end in a checksum. Check that it was copied whole.",
      "invalid_token",
    );
  }
  const key = await store.keys.findBySecretHash(hashApiKey(apiKey), now);
  if (!key) {
    throw unauthorized(
      "The API key is invalid, revoked or expired. Verify it with GET /keys/verify or ask your administrator for a new one.",
      "invalid_token",
    );
  }
  return key;
}
