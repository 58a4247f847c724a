/** Shapes of secrets an agent CLI may print (an API key echoed in an auth error). */
const SECRET_SHAPES: RegExp[] = [
  /\bsk-ant-[A-Za-z0-9_-]{8,}/g, // Anthropic
  /\bAIza[0-9A-Za-z_-]{20,}/g, // Google
  /\bkey_[0-9a-f]{20,}/gi, // Cursor
  /\bknify_(?:live|test)_[A-Za-z0-9_]{8,}/g, // Knify's own keys
];
/** `Authorization: Bearer <token>`: the scheme stays, the token goes. */
const AUTH_HEADER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;
/** `ANTHROPIC_API_KEY=…`, `"token": "…"`: the name stays (it says what was wrong), the value goes. */
const NAMED_SECRET =
  /\b([A-Za-z_]*(?:api[_-]?key|token|secret|password)[A-Za-z_]*)(["']?\s*[=:]\s*["']?)[^\s"',;]{6,}/gi;

/**
 * Returns a function that blanks secrets out of agent output (stderr lines, error messages): the exact
 * values of the credentials the agent was given, then anything shaped like a key. Issue 13: "secrets such
 * as API keys in its stderr redacted".
 * @example const redact = redactor([process.env.ANTHROPIC_API_KEY]); redact("bad key sk-ant-…") // "bad key [redacted]"
 */
export function redactor(secrets: Array<string | undefined>): (text: string) => string {
  // Longest first, so a secret that contains another is blanked whole; values under 8 characters are not
  // keys, and blanking them would garble ordinary output.
  const exact = secrets
    .filter((s): s is string => typeof s === "string" && s.length >= 8)
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const secret of exact) out = out.split(secret).join("[redacted]");
    for (const shape of SECRET_SHAPES) out = out.replace(shape, "[redacted]");
    out = out.replace(AUTH_HEADER, "$1 [redacted]");
    return out.replace(NAMED_SECRET, "$1$2[redacted]");
  };
}
