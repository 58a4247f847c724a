import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSecret, sign, unwrap, verify } from "@knify/sdk/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The receiver from Knify's authentication page (shared/seeds/000_1cc82fe8b71bdbb4.txt), verbatim:
// our signatures must pass it byte for byte.
const SEED_RECEIVER = `import hmac
import hashlib

def verify_webhook(payload, signature, secret):
    computed = hmac.new(
        secret.encode(),
        payload.encode(),
        hashlib.sha256
    ).hexdigest()
    expected = f"sha256={computed}"
    return hmac.compare_digest(expected, signature)
`;

// Reads cases as UTF-8 JSON from stdin whatever the locale, so non-ASCII payloads reach Python intact.
// "sign" cases compute the header with the seed's own formula, to check the other direction.
const HARNESS = `
import json, sys

cases = json.loads(sys.stdin.buffer.read().decode("utf-8"))
results = []
for case in cases:
    if case["op"] == "verify":
        results.append(verify_webhook(case["payload"], case["signature"], case["secret"]))
    else:
        digest = hmac.new(case["secret"].encode(), case["payload"].encode(), hashlib.sha256).hexdigest()
        results.append(f"sha256={digest}")
sys.stdout.write(json.dumps(results))
`;

type PythonCase =
  | { op: "verify"; payload: string; signature: string; secret: string }
  | { op: "sign"; payload: string; secret: string };

let directory: string;
let script: string;

function runPython(cases: PythonCase[]): unknown[] {
  const output = execFileSync("python3", [script], { input: JSON.stringify(cases), encoding: "utf8" });
  return JSON.parse(output) as unknown[];
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "knify-webhooks-python-"));
  script = join(directory, "receiver.py");
  writeFileSync(script, SEED_RECEIVER + HARNESS);
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

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
    expect(unwrap(event, { "x-knify-signature": signatures[0] as string }, secret)).toEqual(JSON.parse(event));
  });
});
