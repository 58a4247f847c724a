const REDACTED = "[redacted]";
/** Headers whose values are credentials. */
const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);
/** JSON fields whose values are credentials: a created key's `api_key`, a webhook endpoint's `secret`. */
const SECRET_FIELDS = /^(api_key|apikey|secret|authorization|password|token)$/i;

/** Headers as a plain object for logging, with credentials replaced. */
export function redactHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : value;
  });
  return out;
}

/**
 * A copy of `value` safe to log: secret fields replaced, and every occurrence of a known secret
 * (the client's own key) replaced inside strings, wherever it appears.
 */
export function redactValue(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === "string") return redactText(value, secrets);
  if (typeof value !== "object" || value === null || depth > 20) return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets, depth + 1));
  if (value instanceof Headers) return redactHeaders(value);
  if (value instanceof Error) return redactText(`${value.name}: ${value.message}`, secrets);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_FIELDS.test(key) ? REDACTED : redactValue(item, secrets, depth + 1);
  }
  return out;
}

/** A body for logging: JSON bodies are parsed and redacted field by field, others are only scrubbed. */
export function redactBody(body: string, secrets: readonly string[]): unknown {
  try {
    return redactValue(JSON.parse(body), secrets);
  } catch {
    return redactText(body.length > 2000 ? `${body.slice(0, 2000)}…` : body, secrets);
  }
}

/** Replaces every occurrence of each secret in `text`. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join(REDACTED);
  return out;
}
