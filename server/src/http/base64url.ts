/** Base64url (RFC 4648 §5, no padding) of a string's UTF-8 bytes: the opaque cursors of list pages. */
export function toBase64url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The text a {@link toBase64url} string carries, or "" when it is not base64url. */
export function fromBase64url(encoded: string): string {
  try {
    const binary = atob(encoded.replace(/-/g, "+").replace(/_/g, "/"));
    return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return "";
  }
}
