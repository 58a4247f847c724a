import { KnifyError } from "../core/knify-error.js";

/** Why a webhook failed verification: a closed set, so a receiver can branch on it (e.g. for metrics). */
export type WebhookVerificationErrorCode =
  | "payload_not_raw"
  | "secret_invalid"
  | "header_missing"
  | "header_malformed"
  | "timestamp_too_old"
  | "timestamp_too_new"
  | "no_signature_matched"
  | "payload_not_json";

/**
 * Thrown when a webhook cannot be trusted or read. The message says what was wrong, the likely cause
 * and what to do; `code` says the same for programs. Answer the delivery with a 400.
 */
export class WebhookVerificationError extends KnifyError {
  override name = "WebhookVerificationError";
  /** The machine-readable reason. */
  readonly code: WebhookVerificationErrorCode;

  constructor(code: WebhookVerificationErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
