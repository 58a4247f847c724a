import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The receiver from Knify's authentication page, verbatim (test/fixtures/seed/verify_webhook.py), driven by
// a harness that reads cases as UTF-8 JSON from stdin whatever the locale, so non-ASCII payloads reach Python
// intact. "sign" cases compute the header with the seed's own formula, to check the other direction.
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

export type SeedCase =
  | { op: "verify"; payload: string; signature: string; secret: string }
  | { op: "sign"; payload: string; secret: string };

let script: string | undefined;

/** Runs the cases through the seed's Python code with python3, in one process. */
export function runSeedPython(cases: SeedCase[]): unknown[] {
  if (!script) {
    const seed = readFileSync(join(import.meta.dirname, "..", "fixtures", "seed", "verify_webhook.py"), "utf8");
    script = join(mkdtempSync(join(tmpdir(), "knify-seed-python-")), "receiver.py");
    writeFileSync(script, seed + HARNESS);
  }
  return JSON.parse(execFileSync("python3", [script], { input: JSON.stringify(cases), encoding: "utf8" })) as unknown[];
}

/** The seed's `verify_webhook(payload, signature, secret)` for each case; payloads are the UTF-8 text Python gets. */
export function seedVerifyWebhook(cases: { payload: string | Buffer; signature: string; secret: string }[]): boolean[] {
  return runSeedPython(
    cases.map((c) => ({ op: "verify", payload: c.payload.toString(), signature: c.signature, secret: c.secret })),
  ) as boolean[];
}
