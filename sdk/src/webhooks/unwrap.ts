import { timingSafeEqual } from "./bytes.js";
import { WebhookVerificationError } from "./error.js";
import type { WebhookEvent } from "./event.js";
import { readHeader, type WebhookHeaders } from "./headers.js";
import { KNIFY_SIGNATURE_HEADER, matchesKnifySignature } from "./knify-signature.js";
import { parseEvent } from "./parse-event.js";
import { payloadBytes, type WebhookPayload } from "./payload.js";
import { assertSecret, secretKey } from "./secret.js";
import {
  standardSignature,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from "./standard-signature.js";

/** Options of {@link unwrap}. */
export interface UnwrapOptions {
  /** How far `webhook-timestamp` may be from `now`, either way, in seconds. Default 300 (Standard Webhooks). */
  toleranceSeconds?: number;
  /** The current time; inject it in tests. Default: the system clock. */
  now?: Date;
  /**
   * Also accept a delivery that carries only the timestamp-less `X-Knify-Signature`. Off by default: that
   * header alone cannot expire, so anyone who captured one delivery could replay it forever, and an attacker
   * who strips the Standard Webhooks headers would downgrade the check to it. Turn it on only for a sender
   * that cannot send `webhook-*` headers; `verify()` checks that header on its own, as the seed's Python does.
   */
  allowLegacySignature?: boolean;
}

const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
const CHECK_SENDER = "Check that the request comes from Knify and that your framework passes all request headers.";
const STANDARD_HEADERS = [WEBHOOK_ID_HEADER, WEBHOOK_TIMESTAMP_HEADER, WEBHOOK_SIGNATURE_HEADER] as const;

/**
 * Verifies a webhook delivery and returns its typed event.
 *
 * Requires the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) and that
 * the timestamp lies within `toleranceSeconds` of `now`, which rejects replays. A delivery with only the
 * timestamp-less `X-Knify-Signature` is refused unless `allowLegacySignature: true` is passed (issue 8,
 * item 7: a silent fallback would let a captured delivery replay forever). Pass several secrets while
 * rotating an endpoint's secret.
 *
 * @throws {WebhookVerificationError} with a message that says what was wrong and what to do.
 * @example
 * app.post("/knify", express.raw({ type: "application/json" }), (req, res) => {
 *   const event = unwrap(req.body, req.headers, process.env.KNIFY_WEBHOOK_SECRET!);
 *   if (event.type === "job.completed") console.log(event.data.id);
 *   res.sendStatus(204);
 * });
 */
export function unwrap(
  payload: WebhookPayload,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: UnwrapOptions = {},
): WebhookEvent {
  const body = payloadBytes(payload);
  const secrets = secretList(secret);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!(tolerance >= 0)) throw new RangeError(`toleranceSeconds must be a number >= 0, got ${tolerance}`);
  if (typeof headers !== "object" || headers === null) {
    throw new WebhookVerificationError(
      "header_missing",
      `Webhook headers are missing (got ${headers}): pass the request's headers, e.g. req.headers or request.headers.`,
    );
  }

  const [id, timestamp, signature] = STANDARD_HEADERS.map((name) => readHeader(headers, name));
  if (id === undefined && timestamp === undefined && signature === undefined) {
    const legacy = readHeader(headers, KNIFY_SIGNATURE_HEADER);
    if (options.allowLegacySignature === true) {
      verifyKnifySignature(body, legacy, secrets);
      return parseEvent(body);
    }
    throw new WebhookVerificationError(
      "header_missing",
      legacy === undefined
        ? `Missing webhook signature headers: expected ${STANDARD_HEADERS.join(", ")} (Standard Webhooks). ${CHECK_SENDER}`
        : `Missing ${STANDARD_HEADERS.join(", ")}: the delivery carries only ${KNIFY_SIGNATURE_HEADER}, which has no timestamp, ` +
            "so a captured delivery could be replayed forever. Knify sends both; a proxy may be dropping headers. " +
            "To accept the legacy header alone, pass { allowLegacySignature: true }.",
    );
  }
  if (id === undefined || timestamp === undefined || signature === undefined) {
    const missing = STANDARD_HEADERS.filter((name) => readHeader(headers, name) === undefined);
    throw new WebhookVerificationError(
      "header_missing",
      `Missing ${missing.join(" and ")} header${missing.length > 1 ? "s" : ""}: Knify sends webhook-id, webhook-timestamp and webhook-signature together. ` +
        "A proxy in front of this receiver may be dropping headers.",
    );
  }

  const seconds = parseTimestamp(timestamp);
  const signatures = parseSignatures(signature);
  const keys = secrets.map((each, index) =>
    secretKey(each, secrets.length > 1 ? `Webhook secret #${index + 1}` : undefined),
  );
  const matched = keys.some((key) => {
    const expected = standardSignature(key, id, timestamp, body);
    return signatures.some((candidate) => timingSafeEqual(candidate, expected));
  });
  if (!matched) throw noMatch(secrets, `${signatures.length} v1 signature${signatures.length === 1 ? "" : "s"}`);

  // Checked after the signature, as Stripe does: then a timestamp error always concerns a genuine Knify message.
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const skew = now - seconds;
  if (skew > tolerance) {
    throw new WebhookVerificationError(
      "timestamp_too_old",
      `Webhook timestamp is too old: ${skew} s before now, tolerance ${tolerance} s. ` +
        "Either a replayed message, or this machine's clock is ahead: check that it is synchronised (NTP).",
    );
  }
  if (-skew > tolerance) {
    throw new WebhookVerificationError(
      "timestamp_too_new",
      `Webhook timestamp is too new: ${-skew} s after now, tolerance ${tolerance} s. ` +
        "This machine's clock is probably behind: check that it is synchronised (NTP).",
    );
  }
  return parseEvent(body);
}

function secretList(secret: unknown): readonly string[] {
  const secrets = Array.isArray(secret) ? (secret as unknown[]) : [secret];
  if (secrets.length === 0) {
    throw new WebhookVerificationError(
      "secret_invalid",
      "No webhook secret was given: pass at least one signing secret.",
    );
  }
  secrets.forEach((each, index) => {
    assertSecret(each, secrets.length > 1 ? `Webhook secret #${index + 1}` : undefined);
  });
  return secrets as string[];
}

function verifyKnifySignature(body: Uint8Array, signature: string | undefined, secrets: readonly string[]): void {
  if (signature === undefined) {
    throw new WebhookVerificationError(
      "header_missing",
      `Missing webhook signature headers: expected ${STANDARD_HEADERS.join(", ")} (Standard Webhooks) or ${KNIFY_SIGNATURE_HEADER}. ${CHECK_SENDER}`,
    );
  }
  if (!/^sha256=[0-9a-f]{64}$/.test(signature)) {
    throw new WebhookVerificationError(
      "header_malformed",
      `Malformed ${KNIFY_SIGNATURE_HEADER} header: expected "sha256=" followed by 64 lowercase hex digits, got ${quote(signature)}.`,
    );
  }
  if (!secrets.some((each) => matchesKnifySignature(body, each, signature))) {
    throw noMatch(secrets, `the ${KNIFY_SIGNATURE_HEADER} header`);
  }
}

function parseTimestamp(header: string): number {
  if (!/^[0-9]{1,15}$/.test(header)) {
    throw new WebhookVerificationError(
      "header_malformed",
      `Malformed ${WEBHOOK_TIMESTAMP_HEADER} header: expected Unix epoch seconds, got ${quote(header)}.`,
    );
  }
  return Number(header);
}

/** The base64 parts of the `v1,` entries of a space-separated `webhook-signature` header. */
function parseSignatures(header: string): string[] {
  // Trailing commas come from `Headers.get` joining a repeated header with ", ".
  const entries = header
    .split(/\s+/)
    .filter((entry) => entry !== "")
    .map((entry) => entry.replace(/,$/, ""));
  const parsed = entries.map((entry) => entry.split(","));
  if (parsed.length === 0 || parsed.some((parts) => parts.length !== 2 || parts[0] === "" || parts[1] === "")) {
    throw new WebhookVerificationError(
      "header_malformed",
      `Malformed ${WEBHOOK_SIGNATURE_HEADER} header: expected space-separated "v1,<base64>" entries, got ${quote(header)}.`,
    );
  }
  const v1 = parsed.filter(([version]) => version === "v1").map(([, signature]) => signature as string);
  if (v1.length === 0) {
    const versions = [...new Set(parsed.map(([version]) => version))].join(", ");
    throw new WebhookVerificationError(
      "header_malformed",
      `The ${WEBHOOK_SIGNATURE_HEADER} header has no v1 (HMAC-SHA256) signature, only ${versions}; this SDK verifies v1.`,
    );
  }
  return v1;
}

function noMatch(secrets: readonly string[], against: string): WebhookVerificationError {
  const tried = secrets.length === 1 ? "the 1 secret given" : `all ${secrets.length} secrets given`;
  const whitespace = secrets.some((each) => /\s/.test(each))
    ? " A secret contains whitespace: a trailing newline from a file or .env is a common slip."
    : "";
  return new WebhookVerificationError(
    "no_signature_matched",
    `No signature matched: tried ${tried} against ${against}. Check that the secret is this endpoint's signing secret ` +
      "(whsec_…, returned once when the endpoint was created), and that the payload is the raw request body, unmodified." +
      whitespace,
  );
}

function quote(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}
