/**
 * The base class of every error the SDK throws on purpose, so callers can tell the SDK's errors
 * from their own with one `instanceof KnifyError`.
 */
export class KnifyError extends Error {
  override name = "KnifyError";
}
