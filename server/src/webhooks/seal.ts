import { gcm } from "@noble/ciphers/aes.js";
import { randomBytes } from "@noble/ciphers/utils.js";

const VERSION = "v1";
const TAG_BYTES = 16;

/**
 * Encrypts endpoint secrets at rest with AES-256-GCM. They cannot be hashed like API keys, because the
 * server needs them in clear to sign every delivery; a copy of the database alone does not reveal them.
 * Each ciphertext is bound to its endpoint id (GCM additional data), so secrets cannot be swapped between rows.
 */
export interface SecretBox {
  seal(plaintext: string, boundTo: string): string;
  /** Throws when the key is wrong or the value was tampered with. */
  open(sealed: string, boundTo: string): string;
}

const utf8 = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/**
 * The secret box on a 32-byte key, runtime-neutral (@noble/ciphers' AES-GCM: synchronous, no Node crypto), so
 * the server and `@knify/sdk/testing` seal alike. Sealed values are `v1:<iv>:<tag>:<ciphertext>` in base64.
 * @example const box = createSecretBox(loadSecretKey(env, config.dataDir)); box.open(box.seal(s, id), id) === s
 */
export function createSecretBox(key: Uint8Array): SecretBox {
  return {
    seal(plaintext, boundTo) {
      const iv = randomBytes(12);
      const sealed = gcm(key, iv, utf8.encode(boundTo)).encrypt(utf8.encode(plaintext));
      const data = sealed.subarray(0, sealed.length - TAG_BYTES);
      const tag = sealed.subarray(sealed.length - TAG_BYTES);
      return [VERSION, toBase64(iv), toBase64(tag), toBase64(data)].join(":");
    },
    open(sealed, boundTo) {
      const [version, iv, tag, data] = sealed.split(":");
      if (version !== VERSION || iv === undefined || tag === undefined || data === undefined) {
        throw new Error("the stored endpoint secret is not in a format this server knows");
      }
      const cipher = gcm(key, fromBase64(iv), utf8.encode(boundTo));
      const body = fromBase64(data);
      const joined = new Uint8Array(body.length + TAG_BYTES);
      joined.set(body);
      joined.set(fromBase64(tag), body.length);
      return new TextDecoder().decode(cipher.decrypt(joined));
    },
  };
}
