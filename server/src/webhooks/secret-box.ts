import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../config.js";

const KEY_FILE = "secret.key";
const VERSION = "v1";

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

function parseKey(raw: string): Buffer | undefined {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  return key.length === 32 ? key : undefined;
}

/**
 * The key from `KNIFY_SECRET_KEY` (32 bytes as base64 or 64 hex digits), or else from `<dataDir>/secret.key`,
 * generated on first start with mode 0600. Losing that file makes existing endpoint secrets unusable.
 */
export function loadSecretKey(env: NodeJS.ProcessEnv, dataDir: string): Buffer {
  const configured = env.KNIFY_SECRET_KEY;
  if (configured !== undefined && configured !== "") {
    const key = parseKey(configured);
    if (!key) {
      throw new ConfigError(
        "KNIFY_SECRET_KEY must be 32 random bytes as base64 or 64 hex digits (e.g. `openssl rand -base64 32`).",
      );
    }
    return key;
  }
  const path = join(dataDir, KEY_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    // "wx" fails if the file exists, so two servers starting at once never overwrite each other's key.
    writeFileSync(path, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const key = parseKey(readFileSync(path, "utf8"));
  if (!key) throw new ConfigError(`${path} does not hold a 32-byte base64 key; restore it from a backup.`);
  return key;
}

/** @example const box = createSecretBox(loadSecretKey(env, config.dataDir)); box.open(box.seal(s, id), id) === s */
export function createSecretBox(key: Buffer): SecretBox {
  return {
    seal(plaintext, boundTo) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(boundTo, "utf8"));
      const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), data]
        .map((p) => (typeof p === "string" ? p : p.toString("base64")))
        .join(":");
    },
    open(sealed, boundTo) {
      const [version, iv, tag, data] = sealed.split(":");
      if (version !== VERSION || iv === undefined || tag === undefined || data === undefined) {
        throw new Error("the stored endpoint secret is not in a format this server knows");
      }
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
      decipher.setAAD(Buffer.from(boundTo, "utf8"));
      decipher.setAuthTag(Buffer.from(tag, "base64"));
      return Buffer.concat([decipher.update(Buffer.from(data, "base64")), decipher.final()]).toString("utf8");
    },
  };
}
