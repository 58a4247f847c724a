import { runInNewContext } from "node:vm";
import * as webhooks from "@knify/sdk/webhooks";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";

// `@knify/sdk/webhooks` computes HMACs with node:crypto where the runtime offers it (process.getBuiltinModule)
// and with pure JavaScript elsewhere (issue 11, part 3). The same cases run on each path and must give the
// same results byte for byte: here in Node, and in a browser-like realm that has only Web APIs.

// The cases, as code run in each realm against `webhooks` (its exports); it returns plain JSON.
const CASES = `
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const other = "whsec_" + btoa("another secret, 24 bytes");
// Longer than SHA-256's 64-byte block, both as text (X-Knify-Signature's key) and decoded (Standard Webhooks'):
// HMAC hashes such a key first.
const long = "whsec_" + btoa("k".repeat(96));
const timestamp = new Date(1614265330 * 1000);
const big = "x".repeat(64 * 1024);
const payloads = [
  '{"test": 2432232314}',
  JSON.stringify({ id: "evt_1", type: "webhook.test", created_at: "2026-11-27T12:00:00Z", data: { message: "héllo ✓ 🚀 日本語" } }),
  "",
  JSON.stringify({ id: "evt_big", type: "webhook.test", data: { big } }),
  new Uint8Array([123, 34, 97, 34, 58, 34, 255, 254, 34, 125]), // not UTF-8: signed as the bytes sent
];
const code = (action) => { try { return action(); } catch (error) { return error.code ?? String(error); } };
const results = payloads.map((payload) => {
  const headers = webhooks.sign({ payload, secret, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp });
  const legacy = headers["X-Knify-Signature"];
  return {
    headers,
    verified: webhooks.verify(payload, legacy, secret),
    otherSecret: webhooks.verify(payload, legacy, other),
    upperHex: webhooks.verify(payload, legacy.toUpperCase().replace("SHA256", "sha256"), secret),
    unwrapped: code(() => JSON.stringify(webhooks.unwrap(payload, headers, [other, secret], { now: timestamp }))),
    tampered: code(() => webhooks.unwrap(payload, { ...headers, "webhook-id": "msg_other" }, secret, { now: timestamp })),
    legacyOnly: code(() => webhooks.unwrap(payload, { "x-knify-signature": legacy }, secret, { allowLegacySignature: true, now: timestamp })),
  };
});
const longKey = payloads.slice(0, 2).map((payload) => webhooks.sign({ payload, secret: long, id: "msg_1", timestamp }));
return JSON.stringify({
  longKey,
  longKeyVerified: payloads.slice(0, 2).map((payload, i) => webhooks.verify(payload, longKey[i]["X-Knify-Signature"], long)),
  // RFC 4231 test case 2 (key "Jefe"), through verify(): sha256= + the HMAC's hex.
  rfc4231: webhooks.verify("what do ya want for nothing?", "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "Jefe"),
  github: webhooks.verify("Hello, World!", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "It's a Secret to Everybody"),
  results,
});
`;

interface Outcome {
  github: boolean;
  rfc4231: boolean;
  longKeyVerified: boolean[];
  results: { headers: Record<string, string>; verified: boolean; unwrapped: string }[];
}

let bundle: string;

/** Runs the cases in a new realm with only the given globals, against the browser bundle of the webhooks entry. */
function runInRealm(globals: Record<string, unknown>): Outcome {
  const script = `${bundle}\n(function () { ${CASES} })();`;
  return JSON.parse(runInNewContext(script, { ...globals })) as Outcome;
}

const webGlobals = { TextEncoder, TextDecoder, atob, btoa, crypto: globalThis.crypto };

beforeAll(async () => {
  // The entry as a browser bundler builds it: any static `node:` import would fail this build.
  const result = await build({
    entryPoints: ["sdk/src/webhooks.ts"],
    bundle: true,
    write: false,
    format: "iife",
    globalName: "webhooks",
    platform: "browser",
    target: "es2022",
    logLevel: "silent",
  });
  bundle = result.outputFiles[0]?.text ?? "";
});

describe("webhooks on each runtime path", () => {
  it("gives the same signatures and results with node:crypto and with pure JavaScript", () => {
    const node = JSON.parse(new Function("webhooks", CASES)(webhooks) as string) as Outcome;
    const pure = runInRealm(webGlobals);

    expect(node.github).toBe(true);
    expect(node.rfc4231).toBe(true);
    expect(node.longKeyVerified).toEqual([true, true]);
    expect(node.results.every((result) => result.verified)).toBe(true);
    expect(node.results.map((result) => result.unwrapped)).not.toContain("no_signature_matched");
    // The Standard Webhooks specification's example signature, on both paths.
    expect(node.results[0]?.headers["webhook-signature"]).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    expect(pure).toEqual(node);
  });

  it("uses node:crypto when the runtime offers process.getBuiltinModule, with the same results", () => {
    const asked: string[] = [];
    const getBuiltinModule = (id: string) => {
      asked.push(id);
      return process.getBuiltinModule(id);
    };
    const viaNode = runInRealm({ ...webGlobals, process: { getBuiltinModule } });
    expect(asked).toEqual(["node:crypto"]); // looked up once, on first use, then kept
    expect(viaNode).toEqual(runInRealm(webGlobals));
  });

  it("falls back to pure JavaScript when a shimmed process refuses node:crypto", () => {
    const refusing = {
      getBuiltinModule: () => {
        throw new Error("not supported");
      },
    };
    expect(runInRealm({ ...webGlobals, process: refusing })).toEqual(runInRealm(webGlobals));
  });
});
