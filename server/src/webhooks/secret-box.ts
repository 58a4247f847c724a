import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../config.js";

const KEY_FILE = "secret.key";

// The key's home on the server's disk; the box that uses it is runtime-neutral (seal.ts).

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
