import { generateSecret, sign, unwrap, verify, WebhookVerificationError } from "@knify/sdk/webhooks";
import { describe, expect, it } from "vitest";

// Issue 17, from the mutation run of sdk/src/webhooks/: one valid signed delivery, with exactly one thing
// broken per test, and the exact code and diagnosis each refusal gives.

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW = new Date("2026-01-02T03:04:05Z");
const body = JSON.stringify({ id: "evt_rules", type: "webhook.test", created_at: NOW.toISOString(), data: {} });
const signed = (overrides: Partial<Parameters<typeof sign>[0]> = {}) =>
  sign({ payload: body, secret, timestamp: NOW, ...overrides });
const standardOnly = (headers: Record<string, string>) => {
  const { "X-Knify-Signature": _legacy, ...rest } = headers;
  return rest;
};

function refusal(run: () => unknown): WebhookVerificationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return error as WebhookVerificationError;
  }
  throw new Error("expected a refusal");
}

describe("unwrap", () => {
  it("accepts the valid delivery (the baseline every other test breaks once)", () => {
    expect(unwrap(body, signed(), secret, { now: NOW })).toMatchObject({ id: "evt_rules", type: "webhook.test" });
  });

  it("refuses a negative or NaN tolerance, and takes 0 (the timestamp must then be now)", () => {
    expect(() => unwrap(body, signed(), secret, { now: NOW, toleranceSeconds: -1 })).toThrow(
      new RangeError("toleranceSeconds must be a number >= 0, got -1"),
    );
    expect(() => unwrap(body, signed(), secret, { now: NOW, toleranceSeconds: Number.NaN })).toThrow(RangeError);
    expect(unwrap(body, signed(), secret, { now: NOW, toleranceSeconds: 0 }).id).toBe("evt_rules");
  });

  it("says the headers are missing when none were passed", () => {
    for (const headers of [null, undefined, "webhook-id: x"]) {
      const error = refusal(() => unwrap(body, headers as never, secret, { now: NOW }));
      expect(error.code).toBe("header_missing");
      expect(error.message).toBe(
        `Webhook headers are missing (got ${headers}): pass the request's headers, e.g. req.headers or request.headers.`,
      );
    }
  });

  it("without any signature header, says which headers it expected", () => {
    const error = refusal(() => unwrap(body, {}, secret, { now: NOW }));
    expect(error.code).toBe("header_missing");
    expect(error.message).toMatch(
      /^Missing webhook signature headers: expected webhook-id, webhook-timestamp, webhook-signature/,
    );
  });

  it("with only X-Knify-Signature, refuses the downgrade and names the opt-in", () => {
    const legacy = { "X-Knify-Signature": signed()["X-Knify-Signature"] ?? "" };
    const error = refusal(() => unwrap(body, legacy, secret, { now: NOW }));
    expect(error.code).toBe("header_missing");
    expect(error.message).toMatch(/carries only X-Knify-Signature.*allowLegacySignature: true/s);
    expect(unwrap(body, legacy, secret, { now: NOW, allowLegacySignature: true }).id).toBe("evt_rules");
  });

  it.each([
    [["webhook-id"], "Missing webhook-id header: "],
    [["webhook-timestamp"], "Missing webhook-timestamp header: "],
    [["webhook-signature"], "Missing webhook-signature header: "],
    [["webhook-id", "webhook-signature"], "Missing webhook-id and webhook-signature headers: "],
    [["webhook-timestamp", "webhook-signature"], "Missing webhook-timestamp and webhook-signature headers: "],
    [["webhook-id", "webhook-timestamp"], "Missing webhook-id and webhook-timestamp headers: "],
  ])("names each missing Standard Webhooks header: without %j", (dropped, message) => {
    const headers = standardOnly(signed());
    for (const name of dropped) delete headers[name];
    const error = refusal(() => unwrap(body, headers, secret, { now: NOW }));
    expect(error.code).toBe("header_missing");
    expect(error.message.startsWith(message)).toBe(true);
  });

  it.each(["1767323045x", "x1767323045", "1767323045.5", "1234567890123456", ""])(
    "refuses the malformed timestamp %j",
    (timestamp) => {
      const headers = { ...signed(), "webhook-timestamp": timestamp };
      const error = refusal(() => unwrap(body, headers, secret, { now: NOW }));
      expect(error.code).toBe("header_malformed");
    },
  );

  it("accepts exactly the tolerance either way, and refuses one second more", () => {
    const at = (seconds: number) => signed({ timestamp: new Date(NOW.getTime() + seconds * 1000) });
    expect(unwrap(body, at(-300), secret, { now: NOW }).id).toBe("evt_rules");
    expect(unwrap(body, at(300), secret, { now: NOW }).id).toBe("evt_rules");
    const old = refusal(() => unwrap(body, at(-301), secret, { now: NOW }));
    expect(old.code).toBe("timestamp_too_old");
    expect(old.message).toMatch(/^Webhook timestamp is too old: 301 s before now, tolerance 300 s\./);
    const early = refusal(() => unwrap(body, at(301), secret, { now: NOW }));
    expect(early.code).toBe("timestamp_too_new");
    expect(early.message).toMatch(/^Webhook timestamp is too new: 301 s after now, tolerance 300 s\./);
  });

  it.each([
    ["no entry", " "],
    ["an entry without a comma", "v1"],
    ["an empty version", ",abc"],
    ["an empty signature", "v1,"],
    ["three parts", "v1,a,b"],
  ])("refuses a webhook-signature with %s", (_, value) => {
    const error = refusal(() => unwrap(body, { ...signed(), "webhook-signature": value }, secret, { now: NOW }));
    expect(error.code).toBe("header_malformed");
    expect(error.message).toBe(
      `Malformed webhook-signature header: expected space-separated "v1,<base64>" entries, got ${JSON.stringify(value)}.`,
    );
  });

  it("finds the v1 signature among several entries, separated by any whitespace and a joined header's comma", () => {
    const valid = signed()["webhook-signature"] ?? "";
    const headers = { ...signed(), "webhook-signature": `v1a,xyz  \t${valid}, v2,abc` };
    expect(unwrap(body, headers, secret, { now: NOW }).id).toBe("evt_rules");
  });

  it("says how many v1 signatures it tried, and that only other versions were sent", () => {
    const wrong = { ...signed(), "webhook-signature": "v1,AAAA v1,BBBB" };
    expect(refusal(() => unwrap(body, wrong, secret, { now: NOW })).message).toMatch(
      /^No signature matched: tried the 1 secret given against 2 v1 signatures\./,
    );
    const one = { ...signed(), "webhook-signature": "v1,AAAA" };
    expect(refusal(() => unwrap(body, one, secret, { now: NOW })).message).toContain("against 1 v1 signature.");
    const v2 = refusal(() => unwrap(body, { ...signed(), "webhook-signature": "v2,AAAA v3,B" }, secret, { now: NOW }));
    expect(v2.message).toBe(
      "The webhook-signature header has no v1 (HMAC-SHA256) signature, only v2, v3; this SDK verifies v1.",
    );
  });

  it("takes any of several secrets while rotating, and numbers the bad one", () => {
    const other = generateSecret();
    expect(unwrap(body, signed(), [other, secret], { now: NOW }).id).toBe("evt_rules");
    const none = refusal(() => unwrap(body, signed(), [other, generateSecret()], { now: NOW }));
    expect(none.message).toMatch(/^No signature matched: tried all 2 secrets given against 1 v1 signature\./);
    const bad = refusal(() => unwrap(body, signed(), [secret, "whsec_!!!"], { now: NOW }));
    expect(bad.code).toBe("secret_invalid");
    expect(bad.message).toMatch(/^Webhook secret #2 is not a Knify signing secret/);
    const empty = refusal(() => unwrap(body, signed(), [secret, ""], { now: NOW }));
    expect(empty.message).toMatch(/^Webhook secret #2 is empty/);
    const noneGiven = refusal(() => unwrap(body, signed(), [], { now: NOW }));
    expect(noneGiven.code).toBe("secret_invalid");
    expect(noneGiven.message).toBe("No webhook secret was given: pass at least one signing secret.");
  });

  it("points at whitespace in a secret only when there is some", () => {
    const legacy = { "X-Knify-Signature": signed()["X-Knify-Signature"] ?? "" };
    const opts = { now: NOW, allowLegacySignature: true };
    const wrongButClean = refusal(() => unwrap(body, legacy, generateSecret(), opts));
    expect(wrongButClean.message).toMatch(
      /^No signature matched: tried the 1 secret given against the X-Knify-Signature/,
    );
    expect(wrongButClean.message).not.toContain("whitespace");
    const withNewline = refusal(() => unwrap(body, legacy, [generateSecret(), `${secret}\n`], opts));
    expect(withNewline.message).toContain("A secret contains whitespace");
    const standard = refusal(() => unwrap(body, signed(), `${secret}\n`, { now: NOW }));
    expect(standard.message).toContain("It contains whitespace");
    expect(refusal(() => unwrap(body, signed(), "whsec_!!", { now: NOW })).message).not.toContain("whitespace");
  });

  it("with the legacy header alone, checks its format and its value", () => {
    const opts = { now: NOW, allowLegacySignature: true };
    const legacy = signed()["X-Knify-Signature"] ?? "";
    for (const value of [`x${legacy}`, `${legacy}0`, legacy.replace("sha256=", "")]) {
      const error = refusal(() => unwrap(body, { "X-Knify-Signature": value }, secret, opts));
      expect(error.code).toBe("header_malformed");
      expect(error.message).toContain('expected "sha256=" followed by 64 lowercase hex digits');
    }
    const long = `sha256=${"z".repeat(200)}`;
    expect(refusal(() => unwrap(body, { "X-Knify-Signature": long }, secret, opts)).message).toContain(
      `got "sha256=${"z".repeat(93)}…".`,
    );
    expect(unwrap(body, { "X-Knify-Signature": legacy }, [generateSecret(), secret], opts).id).toBe("evt_rules");
  });

  it("quotes a long malformed header cut at 100 characters, and a short one whole", () => {
    const long = "9".repeat(150);
    expect(refusal(() => unwrap(body, { ...signed(), "webhook-timestamp": long }, secret, { now: NOW })).message).toBe(
      `Malformed webhook-timestamp header: expected Unix epoch seconds, got "${"9".repeat(100)}…".`,
    );
    expect(refusal(() => unwrap(body, { ...signed(), "webhook-timestamp": "12a" }, secret, { now: NOW })).message).toBe(
      'Malformed webhook-timestamp header: expected Unix epoch seconds, got "12a".',
    );
  });

  it("refuses a verified body that is not a JSON object, saying what it is", () => {
    for (const [payload, what] of [
      ["[]", "an array"],
      ["null", "null"],
      ["42", "a number"],
    ] as const) {
      const error = refusal(() => unwrap(payload, signed({ payload, id: "evt_x" }), secret, { now: NOW }));
      expect(error.code).toBe("payload_not_json");
      expect(error.message).toBe(`Webhook payload is JSON but not a Knify event: expected an object, got ${what}.`);
    }
    const broken = refusal(() => unwrap("{", signed({ payload: "{", id: "evt_x" }), secret, { now: NOW }));
    expect(broken.message).toMatch(/^Webhook payload is not JSON \(.+\), although its signature is valid\.$/);
  });

  it("diagnoses a body that is not the raw bytes", () => {
    const parsed = refusal(() => unwrap(JSON.parse(body), signed(), secret, { now: NOW }));
    expect(parsed.code).toBe("payload_not_raw");
    expect(parsed.message).toMatch(
      /^Webhook payload is a parsed JavaScript object: the body was already parsed as JSON/,
    );
    expect(refusal(() => unwrap([1] as never, signed(), secret, { now: NOW })).message).toMatch(
      /a parsed JavaScript object/,
    );
    expect(refusal(() => unwrap(Object.create(null), signed(), secret, { now: NOW })).message).toMatch(/a parsed/);
    expect(refusal(() => unwrap(new ArrayBuffer(2) as never, signed(), secret, { now: NOW })).message).toMatch(
      /^Webhook payload is a ArrayBuffer, not a string or Uint8Array\./,
    );
    expect(refusal(() => unwrap(7 as never, signed(), secret, { now: NOW })).message).toMatch(
      /^Webhook payload is a number, not a string or Uint8Array\./,
    );
    expect(refusal(() => unwrap(undefined as never, signed(), secret, { now: NOW })).code).toBe("payload_not_raw");
    expect(refusal(() => unwrap(undefined as never, signed(), secret, { now: NOW })).message).toMatch(
      /^Webhook payload is missing \(got undefined\)\./,
    );
    expect(refusal(() => unwrap(null as never, signed(), secret, { now: NOW })).message).toMatch(
      /^Webhook payload is missing \(got null\)\./,
    );
  });
});

describe("unwrap's diagnoses, word for word", () => {
  const tail = "Check that the request comes from Knify and that your framework passes all request headers.";

  it("for missing headers", () => {
    expect(refusal(() => unwrap(body, {}, secret, { now: NOW })).message).toBe(
      `Missing webhook signature headers: expected webhook-id, webhook-timestamp, webhook-signature (Standard Webhooks). ${tail}`,
    );
    expect(refusal(() => unwrap(body, {}, secret, { now: NOW, allowLegacySignature: true })).message).toBe(
      `Missing webhook signature headers: expected webhook-id, webhook-timestamp, webhook-signature (Standard Webhooks) or X-Knify-Signature. ${tail}`,
    );
    const legacy = { "X-Knify-Signature": signed()["X-Knify-Signature"] ?? "" };
    expect(refusal(() => unwrap(body, legacy, secret, { now: NOW })).message).toBe(
      "Missing webhook-id, webhook-timestamp, webhook-signature: the delivery carries only X-Knify-Signature, which has no timestamp, " +
        "so a captured delivery could be replayed forever. Knify sends both; a proxy may be dropping headers. " +
        "To accept the legacy header alone, pass { allowLegacySignature: true }.",
    );
    const { "webhook-id": _id, ...noId } = standardOnly(signed());
    expect(refusal(() => unwrap(body, noId, secret, { now: NOW })).message).toBe(
      "Missing webhook-id header: Knify sends webhook-id, webhook-timestamp and webhook-signature together. " +
        "A proxy in front of this receiver may be dropping headers.",
    );
  });

  it("for an old timestamp, a wrong secret and a bad one", () => {
    const old = signed({ timestamp: new Date(NOW.getTime() - 400_000) });
    expect(refusal(() => unwrap(body, old, secret, { now: NOW })).message).toBe(
      "Webhook timestamp is too old: 400 s before now, tolerance 300 s. " +
        "Either a replayed message, or this machine's clock is ahead: check that it is synchronised (NTP).",
    );
    expect(refusal(() => unwrap(body, signed(), generateSecret(), { now: NOW })).message).toBe(
      "No signature matched: tried the 1 secret given against 1 v1 signature. Check that the secret is this endpoint's signing secret " +
        "(whsec_…, returned once when the endpoint was created), and that the payload is the raw request body, unmodified.",
    );
    expect(refusal(() => unwrap(body, signed(), "whsec_!!", { now: NOW })).message).toBe(
      "Webhook secret is not a Knify signing secret: expected whsec_ followed by base64 (as returned when the endpoint was created).",
    );
    expect(refusal(() => unwrap(body, signed(), "", { now: NOW })).message).toBe(
      "Webhook secret is empty: pass the endpoint's signing secret (whsec_…, shown once when the endpoint was created), e.g. from an environment variable that is set.",
    );
  });

  it("accepts surrounding whitespace in webhook-signature, as a plain object may carry it", () => {
    const valid = signed()["webhook-signature"] ?? "";
    expect(unwrap(body, { ...signed(), "webhook-signature": `  ${valid}  ` }, secret, { now: NOW }).id).toBe(
      "evt_rules",
    );
  });

  it("quotes a malformed value of exactly 100 characters whole", () => {
    const hundred = `${"9".repeat(99)}x`;
    expect(
      refusal(() => unwrap(body, { ...signed(), "webhook-timestamp": hundred }, secret, { now: NOW })).message,
    ).toBe(`Malformed webhook-timestamp header: expected Unix epoch seconds, got "${hundred}".`);
  });

  it("refuses a signed body that is not valid UTF-8, even when a lenient decoder would make JSON of it", () => {
    const bytes = new Uint8Array([0x22, 0xff, 0x22]);
    const error = refusal(() => unwrap(bytes, signed({ payload: bytes, id: "evt_x" }), secret, { now: NOW }));
    expect(error.code).toBe("payload_not_json");
    expect(error.message).toMatch(/^Webhook payload is not JSON \(/);
  });
});

describe("sign", () => {
  it("takes webhook-id from the payload's id, else makes an evt_ id", () => {
    expect(signed()["webhook-id"]).toBe("evt_rules");
    expect(signed({ id: "evt_given" })["webhook-id"]).toBe("evt_given");
    for (const payload of ["not json", "[1]", '{"id":""}', '{"id":7}', "null"]) {
      expect(sign({ payload, secret })["webhook-id"]).toMatch(/^evt_[0-9a-f]{24}$/);
    }
    expect(sign({ payload: new TextEncoder().encode(body), secret })["webhook-id"]).toBe("evt_rules");
  });

  it("stamps the time in whole Unix seconds, now by default", () => {
    expect(signed({ timestamp: new Date("2026-01-02T03:04:05.999Z") })["webhook-timestamp"]).toBe("1767323045");
    const now = Math.floor(Date.now() / 1000);
    expect(Number(sign({ payload: body, secret })["webhook-timestamp"])).toBeGreaterThanOrEqual(now);
  });

  it("refuses an unset secret, saying whether it was empty or missing", () => {
    expect(() => sign({ payload: body, secret: "" })).toThrow(/^Webhook secret is empty: /);
    expect(() => sign({ payload: body, secret: undefined as never })).toThrow(
      /^Webhook secret is missing \(got undefined\): /,
    );
  });
});

describe("verify (X-Knify-Signature alone)", () => {
  it("accepts the right signature and refuses any other", () => {
    const legacy = signed()["X-Knify-Signature"] ?? "";
    expect(verify(body, legacy, secret)).toBe(true);
    expect(
      verify(
        body,
        legacy.replace(/.$/, (c) => (c === "0" ? "1" : "0")),
        secret,
      ),
    ).toBe(false);
    expect(verify(`${body} `, legacy, secret)).toBe(false);
  });
});

describe("generateSecret", () => {
  it("makes whsec_ + base64 of 24 random bytes, different each time, that unwrap accepts", () => {
    const made = generateSecret();
    expect(made).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(generateSecret()).not.toBe(made);
    const headers = sign({ payload: body, secret: made, timestamp: NOW });
    expect(unwrap(body, headers as unknown as Record<string, string>, made, { now: NOW }).id).toBe("evt_rules");
  });
});

describe("headers as frameworks pass them", () => {
  it("reads a plain object case-insensitively, skips undefined, and joins a repeated header", () => {
    const headers = signed();
    const valid = headers["webhook-signature"] ?? "";
    const nodeStyle: Record<string, string | string[] | undefined> = {
      "WEBHOOK-ID": headers["webhook-id"],
      "webhook-timestamp": headers["webhook-timestamp"],
      "webhook-signature": ["v1,AAAA", valid],
      "x-unrelated": undefined,
      "Webhook-Signature": undefined,
    };
    expect(unwrap(body, nodeStyle, secret, { now: NOW }).id).toBe("evt_rules");
    const fetchStyle = new Headers(standardOnly(headers));
    expect(unwrap(body, fetchStyle, secret, { now: NOW }).id).toBe("evt_rules");
  });

  it("joins repeated values in order, so one bad entry in the list is reported as written", () => {
    const nodeStyle = { ...standardOnly(signed()), "webhook-signature": ["v1,AAAA", "v2"] };
    const error = refusal(() => unwrap(body, nodeStyle, secret, { now: NOW }));
    expect(error.message).toBe(
      'Malformed webhook-signature header: expected space-separated "v1,<base64>" entries, got "v1,AAAA, v2".',
    );
  });
});

describe("signing secrets", () => {
  it.each([
    ["whsec_abcde", "a length that is no base64"],
    ["whsec_ab=c", "padding in the middle"],
    ["whsec_a b=", "a space"],
    ["whsec_", "nothing after the prefix"],
    ["xwhsec_YWJj", "a character outside base64 before it"],
    ["whsec_YWJj!", "a character outside base64 after it"],
    ["whsec_ YWJj", "a space before it (atob would drop it)"],
    ["whsec_YWJj  ", "spaces after it (atob would drop them)"],
  ])("refuses %s (%s)", (bad) => {
    const error = refusal(() => unwrap(body, signed(), bad, { now: NOW }));
    expect(error.code).toBe("secret_invalid");
  });

  it("takes the base64 part without its whsec_ prefix, as Standard Webhooks libraries do", () => {
    expect(unwrap(body, signed(), secret.slice("whsec_".length), { now: NOW }).id).toBe("evt_rules");
  });
});

describe("verify with a header that is not one string", () => {
  it("is false for a missing or repeated header", () => {
    const legacy = signed()["X-Knify-Signature"] ?? "";
    expect(verify(body, undefined as never, secret)).toBe(false);
    expect(verify(body, [legacy, legacy] as never, secret)).toBe(false);
    expect(verify(body, `${legacy}0`, secret)).toBe(false);
  });
});
