import {
  generateSecret,
  sign,
  unwrap,
  verify,
  type WebhookEvent,
  WebhookVerificationError,
  type WebhookVerificationErrorCode,
} from "@knify/sdk/webhooks";
import { describe, expect, expectTypeOf, it } from "vitest";

// GitHub's published example (docs: "Validating webhook deliveries").
const GITHUB = {
  secret: "It's a Secret to Everybody",
  payload: "Hello, World!",
  signature: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
};

// The Standard Webhooks specification's example (and its libraries' `sign function works` test).
const STANDARD = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

const secret = STANDARD.secret;
const now = new Date("2026-11-27T12:00:00Z");
const event = {
  id: "evt_01JD3Z8Q4W6T9X2B5N7M0PQRSZ",
  type: "webhook.test",
  created_at: "2026-11-27T12:00:00Z",
  data: { endpoint_id: "we_1", message: "Hello from Knify" },
};

/** One valid signed delivery; each test breaks exactly one field of it. */
function delivery(options: { timestamp?: Date; payload?: string } = {}) {
  const body = options.payload ?? JSON.stringify(event);
  const headers: Record<string, string> = { ...sign({ payload: body, secret, timestamp: options.timestamp ?? now }) };
  return { body, headers };
}

function standardOnly(headers: Record<string, string>): Record<string, string> {
  const { "X-Knify-Signature": _, ...rest } = headers;
  return rest;
}

function knifyOnly(headers: Record<string, string>): Record<string, string> {
  return { "X-Knify-Signature": headers["X-Knify-Signature"] as string };
}

function flipLastChar(text: string): string {
  const last = text.at(-1) === "a" ? "b" : "a";
  return text.slice(0, -1) + last;
}

function caught(action: () => unknown): WebhookVerificationError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return error as WebhookVerificationError;
  }
  throw new Error("expected a WebhookVerificationError, but nothing was thrown");
}

function expectFailure(action: () => unknown, code: WebhookVerificationErrorCode, ...fragments: string[]): void {
  const error = caught(action);
  expect(error.code).toBe(code);
  for (const fragment of fragments) expect(error.message).toContain(fragment);
}

describe("verify", () => {
  it("accepts GitHub's published example, as text and as bytes", () => {
    expect(verify(GITHUB.payload, GITHUB.signature, GITHUB.secret)).toBe(true);
    expect(verify(new TextEncoder().encode(GITHUB.payload), GITHUB.signature, GITHUB.secret)).toBe(true);
    expect(verify(Buffer.from(GITHUB.payload), GITHUB.signature, GITHUB.secret)).toBe(true);
  });

  it("rejects a one-byte change of the body", () => {
    expect(verify("Hello, World?", GITHUB.signature, GITHUB.secret)).toBe(false);
  });

  it("rejects a one-byte change of the signature", () => {
    expect(verify(GITHUB.payload, flipLastChar(GITHUB.signature), GITHUB.secret)).toBe(false);
  });

  it("rejects a one-byte change of the secret", () => {
    expect(verify(GITHUB.payload, GITHUB.signature, "It's a Secret to Everybodx")).toBe(false);
  });

  it("compares exactly, like hmac.compare_digest: no uppercase hex, no missing prefix, no whitespace", () => {
    expect(verify(GITHUB.payload, GITHUB.signature.toUpperCase().replace("SHA256", "sha256"), GITHUB.secret)).toBe(
      false,
    );
    expect(verify(GITHUB.payload, GITHUB.signature.slice("sha256=".length), GITHUB.secret)).toBe(false);
    expect(verify(GITHUB.payload, `${GITHUB.signature} `, GITHUB.secret)).toBe(false);
  });

  it("keys the HMAC with the whole whsec_ secret as text", () => {
    const { body, headers } = delivery();
    expect(verify(body, headers["X-Knify-Signature"] as string, secret)).toBe(true);
    expect(verify(body, headers["X-Knify-Signature"] as string, secret.slice("whsec_".length))).toBe(false);
  });

  it("returns false when the header is absent", () => {
    expect(verify(GITHUB.payload, undefined as unknown as string, GITHUB.secret)).toBe(false);
  });

  it("throws when the body was already parsed", () => {
    expectFailure(
      () => verify(JSON.parse(JSON.stringify(event)) as string, GITHUB.signature, GITHUB.secret),
      "payload_not_raw",
      "already parsed",
      "express.raw",
    );
  });

  it("throws when the secret is missing", () => {
    expectFailure(() => verify(GITHUB.payload, GITHUB.signature, undefined as unknown as string), "secret_invalid");
  });
});

describe("sign", () => {
  it("reproduces the Standard Webhooks specification's example signature", () => {
    const headers = sign({
      payload: STANDARD.payload,
      secret: STANDARD.secret,
      id: STANDARD.id,
      timestamp: new Date(STANDARD.timestamp * 1000),
    });
    expect(headers["webhook-signature"]).toBe(STANDARD.signature);
    expect(headers["webhook-id"]).toBe(STANDARD.id);
    expect(headers["webhook-timestamp"]).toBe(String(STANDARD.timestamp));
    expect(headers["X-Knify-Signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it("uses the event's id as webhook-id, as Knify's deliveries do", () => {
    expect(sign({ payload: JSON.stringify(event), secret })["webhook-id"]).toBe(event.id);
  });

  it("makes a random evt_ id when the payload has none", () => {
    const first = sign({ payload: "[]", secret })["webhook-id"];
    expect(first).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(sign({ payload: "[]", secret })["webhook-id"]).not.toBe(first);
  });

  it("refuses a secret that is not whsec_ + base64", () => {
    expectFailure(() => sign({ payload: "{}", secret: "whsec_not base64!" }), "secret_invalid", "whsec_");
  });
});

describe("generateSecret", () => {
  it("makes whsec_ + base64 of 24 random bytes", () => {
    const first = generateSecret();
    expect(first).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(first.slice("whsec_".length), "base64")).toHaveLength(24);
    expect(generateSecret()).not.toBe(first);
  });
});

describe("unwrap", () => {
  it("accepts the Standard Webhooks specification's example", () => {
    const headers = {
      "webhook-id": STANDARD.id,
      "webhook-timestamp": String(STANDARD.timestamp),
      "webhook-signature": STANDARD.signature,
    };
    const result = unwrap(STANDARD.payload, headers, STANDARD.secret, { now: new Date(STANDARD.timestamp * 1000) });
    expect(result).toEqual({ test: 2432232314 });
  });

  it("returns the typed event of a valid delivery", () => {
    const { body, headers } = delivery();
    const result = unwrap(body, headers, secret, { now });
    expectTypeOf(result).toEqualTypeOf<WebhookEvent>();
    expect(result).toEqual(event);
    if (result.type !== "webhook.test") throw new Error(`unexpected ${result.type}`);
    expect(result.data.message).toBe("Hello from Knify"); // narrowed by the discriminant
  });

  it("accepts the body as bytes, and headers as a Headers instance", () => {
    const { body, headers } = delivery();
    expect(unwrap(Buffer.from(body), new Headers(headers), secret, { now })).toEqual(event);
  });

  it("reads header names in any case, and array values", () => {
    const { body, headers } = delivery();
    const shouted = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toUpperCase(), [value]]));
    expect(unwrap(body, shouted, secret, { now })).toEqual(event);
  });

  it("finds the valid signature among several", () => {
    const { body, headers } = delivery();
    const other = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
    headers["webhook-signature"] = [`v1,${other}`, `v2,${other}`, headers["webhook-signature"], `v1,${other}`].join(
      " ",
    );
    expect(unwrap(body, headers, secret, { now })).toEqual(event);
  });

  it("accepts a repeated webhook-signature header joined by Headers", () => {
    const { body, headers } = delivery();
    const joined = new Headers(standardOnly(headers));
    joined.set("webhook-signature", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=");
    joined.append("webhook-signature", headers["webhook-signature"] as string);
    expect(unwrap(body, joined, secret, { now })).toEqual(event);
  });

  it("accepts any of several secrets, for rotation", () => {
    const { body, headers } = delivery();
    expect(unwrap(body, headers, [generateSecret(), secret], { now })).toEqual(event);
  });

  it("rejects a one-byte change of the body", () => {
    const { body, headers } = delivery();
    expectFailure(
      () => unwrap(body.replace("Hello", "Jello"), headers, secret, { now }),
      "no_signature_matched",
      "tried the 1 secret given",
      "raw request body",
    );
  });

  it("rejects a changed webhook-id", () => {
    const { body, headers } = delivery();
    headers["webhook-id"] = "evt_other";
    expectFailure(() => unwrap(body, headers, secret, { now }), "no_signature_matched");
  });

  it("rejects a changed webhook-timestamp, which the signature covers", () => {
    const { body, headers } = delivery();
    headers["webhook-timestamp"] = String(Number(headers["webhook-timestamp"]) + 1);
    expectFailure(() => unwrap(body, headers, secret, { now }), "no_signature_matched");
  });

  it("rejects a one-byte change of the signature", () => {
    const { body, headers } = delivery();
    headers["webhook-signature"] = (headers["webhook-signature"] as string).replace(/^v1,./, (start) =>
      start.endsWith("A") ? "v1,B" : "v1,A",
    );
    expectFailure(() => unwrap(body, headers, secret, { now }), "no_signature_matched");
  });

  it("rejects another secret, and says how many were tried", () => {
    const { body, headers } = delivery();
    expectFailure(
      () => unwrap(body, headers, [generateSecret(), generateSecret()], { now }),
      "no_signature_matched",
      "all 2 secrets",
      "endpoint's signing secret",
    );
  });

  it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])("names a missing %s header", (name) => {
    const { body, headers } = delivery();
    delete headers[name];
    expectFailure(() => unwrap(body, headers, secret, { now }), "header_missing", `Missing ${name} header`);
  });

  it("names every accepted header when none is present", () => {
    const { body } = delivery();
    expectFailure(
      () => unwrap(body, { "content-type": "application/json" }, secret, { now }),
      "header_missing",
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
    );
    expectFailure(
      () => unwrap(body, { "content-type": "application/json" }, secret, { now, allowLegacySignature: true }),
      "header_missing",
      "webhook-signature",
      "X-Knify-Signature",
    );
  });

  it("rejects a webhook-timestamp that is not epoch seconds", () => {
    const { body, headers } = delivery();
    headers["webhook-timestamp"] = "hello";
    expectFailure(() => unwrap(body, headers, secret, { now }), "header_malformed", "webhook-timestamp", '"hello"');
  });

  it.each(["dawfeoifkpqwoekfpqoekf", "v1,", "v1"])("rejects a malformed webhook-signature %j", (value) => {
    const { body, headers } = delivery();
    headers["webhook-signature"] = value;
    expectFailure(() => unwrap(body, headers, secret, { now }), "header_malformed", "webhook-signature");
  });

  it("rejects a webhook-signature without a v1 entry", () => {
    const { body, headers } = delivery();
    headers["webhook-signature"] = (headers["webhook-signature"] as string).replace("v1,", "v2,");
    expectFailure(() => unwrap(body, headers, secret, { now }), "header_malformed", "no v1", "v2");
  });

  it("accepts a timestamp exactly at the edge of the window", () => {
    const { body, headers } = delivery({ timestamp: new Date(now.getTime() - 300_000) });
    expect(unwrap(body, headers, secret, { now })).toEqual(event);
  });

  it("rejects a timestamp too old, with the skew", () => {
    const { body, headers } = delivery({ timestamp: new Date(now.getTime() - 301_000) });
    expectFailure(() => unwrap(body, headers, secret, { now }), "timestamp_too_old", "301 s", "tolerance 300 s");
  });

  it("rejects a timestamp too new, with the skew", () => {
    const { body, headers } = delivery({ timestamp: new Date(now.getTime() + 301_000) });
    expectFailure(() => unwrap(body, headers, secret, { now }), "timestamp_too_new", "301 s", "clock");
  });

  it("honours toleranceSeconds", () => {
    const { body, headers } = delivery({ timestamp: new Date(now.getTime() - 11_000) });
    expect(unwrap(body, headers, secret, { now, toleranceSeconds: 11 })).toEqual(event);
    expectFailure(() => unwrap(body, headers, secret, { now, toleranceSeconds: 10 }), "timestamp_too_old", "11 s");
  });

  it("diagnoses a body that was already parsed", () => {
    const { headers } = delivery();
    expectFailure(
      () => unwrap(structuredClone(event) as unknown as string, headers, secret, { now }),
      "payload_not_raw",
      "already parsed",
      "express.raw",
      "ctx.request.rawBody",
    );
  });

  it("rejects a signed payload that is not JSON", () => {
    const { body, headers } = delivery({ payload: "not json" });
    expectFailure(() => unwrap(body, headers, secret, { now }), "payload_not_json", "not JSON");
  });

  it("points at whitespace in a secret", () => {
    const { body, headers } = delivery();
    expectFailure(() => unwrap(body, headers, `${secret}\n`, { now }), "secret_invalid", "whitespace");
  });

  it("is a KnifyError", () => {
    const error = caught(() => unwrap("{}", {}, secret, { now }));
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("WebhookVerificationError");
    expect(Object.getPrototypeOf(WebhookVerificationError.prototype).constructor.name).toBe("KnifyError");
  });
});

describe("unwrap cannot be downgraded to X-Knify-Signature (issue 8, item 7)", () => {
  it("refuses a valid X-Knify-Signature alone by default, saying why and how to opt in", () => {
    const { body, headers } = delivery();
    expectFailure(() => unwrap(body, knifyOnly(headers), secret, { now }), "header_missing", "allowLegacySignature");
  });

  it("refuses a captured delivery whose webhook-* headers were stripped, however old", () => {
    const { body, headers } = delivery({ timestamp: new Date(0) });
    expectFailure(() => unwrap(body, headers, secret, { now }), "timestamp_too_old");
    expectFailure(() => unwrap(body, knifyOnly(headers), secret, { now }), "header_missing");
  });

  it("checks the Standard Webhooks headers even when the legacy option is on", () => {
    const { body, headers } = delivery({ timestamp: new Date(0) });
    expectFailure(() => unwrap(body, headers, secret, { now, allowLegacySignature: true }), "timestamp_too_old");
  });
});

describe("unwrap with only X-Knify-Signature and { allowLegacySignature: true }", () => {
  const legacy = { now, allowLegacySignature: true };

  it("accepts a valid signature", () => {
    const { body, headers } = delivery();
    expect(unwrap(body, knifyOnly(headers), secret, legacy)).toEqual(event);
  });

  it("does not apply the timestamp window, which this scheme lacks", () => {
    const { body, headers } = delivery({ timestamp: new Date(0) });
    expect(unwrap(body, knifyOnly(headers), secret, legacy)).toEqual(event);
  });

  it("rejects a one-byte change of the body", () => {
    const { body, headers } = delivery();
    expectFailure(
      () => unwrap(body.replace("Hello", "Jello"), knifyOnly(headers), secret, legacy),
      "no_signature_matched",
      "X-Knify-Signature",
    );
  });

  it("rejects a one-byte change of the signature", () => {
    const { body, headers } = delivery();
    const broken = { "x-knify-signature": flipLastChar(headers["X-Knify-Signature"] as string) };
    expectFailure(() => unwrap(body, broken, secret, legacy), "no_signature_matched");
  });

  it("rejects a malformed header", () => {
    const { body } = delivery();
    expectFailure(
      () => unwrap(body, { "X-Knify-Signature": "md5=abc" }, secret, legacy),
      "header_malformed",
      "X-Knify-Signature",
    );
  });
});
