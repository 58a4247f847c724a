import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey, parseApiKey } from "../../server/src/auth/key-format.js";

// In Node the server hashes keys with node:crypto (issue 11); stores hold hashes made by @noble/hashes before
// that, and `@knify/sdk/testing` still uses it outside Node. Both must give the same bytes, or every
// existing key would stop working.
describe("hashApiKey", () => {
  it("gives the SHA-256 hex that @noble/hashes gives, for generated and non-ASCII input", () => {
    for (const text of [generateApiKey("live").apiKey, generateApiKey("test").apiKey, "knify_é_☃", ""]) {
      expect(hashApiKey(text)).toBe(bytesToHex(sha256(utf8ToBytes(text))));
    }
  });

  it("accepts a generated key's checksum and refuses one with a changed character", () => {
    const { apiKey } = generateApiKey("live");
    expect(parseApiKey(apiKey)).toEqual({ type: "live" });
    const broken = `${apiKey.slice(0, 20)}${apiKey[20] === "A" ? "B" : "A"}${apiKey.slice(21)}`;
    expect(parseApiKey(broken)).toBeNull();
  });
});
