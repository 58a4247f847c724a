import { generateSecret, sign, unwrap, verify } from "@knify/sdk/webhooks";
import { describe, expect, it } from "vitest";
import { type SeedCase as PythonCase, runSeedPython as runPython } from "../support/seed-python.js";

// The seed's Python receiver, verbatim: our signatures must pass it byte for byte.

const event = JSON.stringify({
  id: "evt_01JD3Z8Q4W6T9X2B5N7M0PQRSZ",
  type: "job.completed",
  created_at: "2026-11-27T12:00:00Z",
  data: { id: "job_1", status: "completed", spec: { job_type: "cursor_task", prompt: "Fix the build" } },
});
const payloads = [event, '{"message":"héllo ✓ 🚀 日本語"}', "", "plain text\r\nwith lines\n"];

describe("sign() against the seed's Python verify_webhook", () => {
  it("is accepted for every payload and several generated secrets", () => {
    const cases: PythonCase[] = [];
    for (const payload of payloads) {
      for (const secret of [generateSecret(), generateSecret(), generateSecret()]) {
        cases.push({ op: "verify", payload, secret, signature: sign({ payload, secret })["X-Knify-Signature"] });
      }
    }
    expect(runPython(cases)).toEqual(cases.map(() => true));
  });

  it("is rejected by Python when the body, the signature or the secret differs (the harness can fail)", () => {
    const secret = generateSecret();
    const signature = sign({ payload: event, secret })["X-Knify-Signature"];
    const results = runPython([
      { op: "verify", payload: `${event} `, signature, secret },
      { op: "verify", payload: event, signature: signature.replace(/.$/, (c) => (c === "0" ? "1" : "0")), secret },
      { op: "verify", payload: event, signature, secret: generateSecret() },
    ]);
    expect(results).toEqual([false, false, false]);
  });
});

describe("the seed's Python signature against verify() and unwrap()", () => {
  it("is accepted for every payload", () => {
    const secret = generateSecret();
    const signatures = runPython(payloads.map((payload) => ({ op: "sign", payload, secret }))) as string[];
    payloads.forEach((payload, index) => {
      const signature = signatures[index] as string;
      expect(signature).toBe(sign({ payload, secret })["X-Knify-Signature"]);
      expect(verify(payload, signature, secret)).toBe(true);
    });
    // unwrap() takes the header alone only when told to (issue 8, item 7); verify() takes it as the seed does.
    const legacyOnly = { "x-knify-signature": signatures[0] as string };
    expect(unwrap(event, legacyOnly, secret, { allowLegacySignature: true })).toEqual(JSON.parse(event));
    expect(() => unwrap(event, legacyOnly, secret)).toThrow(/allowLegacySignature/);
  });
});
