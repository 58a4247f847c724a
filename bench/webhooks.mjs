// Webhook verification bench: `verify()` and `unwrap()` of @knify/sdk/webhooks (the built package, as Node
// resolves it) against bare `node:crypto` doing the same check by hand, measured in the same run.
//
//   npm run build && node bench/webhooks.mjs [--quick] [--json]
//
// Baselines (see bench/README.md for why they are fair):
// - verify: createHmac("sha256", secret).update(body).digest(), the header's hex decoded with Buffer.from,
//   compared with crypto.timingSafeEqual; exactly the work an `X-Knify-Signature` check must do.
// - unwrap: the Standard Webhooks check by hand: HMAC of `${id}.${timestamp}.` + body with the decoded
//   secret, compared with timingSafeEqual, the timestamp window checked, then JSON.parse of the body.

import { createHmac, timingSafeEqual } from "node:crypto";
import { alternate, opsPerSecond, printTable, runIfMain } from "./harness.mjs";

/** A JSON event padded to `size` bytes, as Knify would deliver it. */
function eventBody(size) {
  const event = {
    id: "evt_01JD3Z8Q4W6T9X2B5N7M0PQRSZ",
    type: "job.completed",
    created_at: "2026-11-27T12:00:00Z",
    data: { id: "job_1", status: "completed", log: "" },
  };
  const base = JSON.stringify(event).length;
  event.data.log = "x".repeat(Math.max(0, size - base));
  return Buffer.from(JSON.stringify(event));
}

export async function measureWebhooks({ quick = false } = {}) {
  const { sign, unwrap, verify } = await import("@knify/sdk/webhooks");
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const rounds = quick ? 2 : 21;
  const ms = quick ? 20 : 100;
  const rows = [];

  for (const size of [1024, 64 * 1024]) {
    const body = eventBody(size);
    const now = new Date();
    const headers = sign({ payload: body, secret, timestamp: now });
    const legacy = headers["X-Knify-Signature"];

    const bareVerify = () => {
      const expected = createHmac("sha256", secret).update(body).digest();
      if (!legacy.startsWith("sha256=")) return false;
      const given = Buffer.from(legacy.slice(7), "hex");
      return given.length === expected.length && timingSafeEqual(expected, given);
    };
    const ourVerify = () => verify(body, legacy, secret);
    if (!bareVerify() || !ourVerify()) throw new Error("the bench's signatures do not verify");

    const id = headers["webhook-id"];
    const timestamp = headers["webhook-timestamp"];
    const signature = headers["webhook-signature"];
    const bareUnwrap = () => {
      const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
      const given = Buffer.from(signature.slice(3), "base64");
      if (given.length !== expected.length || !timingSafeEqual(expected, given)) throw new Error("no match");
      if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) throw new Error("too old");
      return JSON.parse(body.toString("utf8"));
    };
    const ourUnwrap = () => unwrap(body, headers, secret);
    ourUnwrap();
    bareUnwrap();

    const label = size >= 1024 * 1024 ? `${size / 1024 / 1024} MB` : `${size / 1024} KB`;
    for (const [name, candidate, baseline] of [
      [`verify() ${label} body`, ourVerify, bareVerify],
      [`unwrap() ${label} body`, ourUnwrap, bareUnwrap],
    ]) {
      // Warm both up so the JIT has compiled them before the first timed round.
      opsPerSecond(candidate, ms);
      opsPerSecond(baseline, ms);
      const result = await alternate({
        rounds,
        baseline: () => opsPerSecond(baseline, ms),
        candidate: () => opsPerSecond(candidate, ms),
      });
      rows.push({ name, unit: "ops/s", result, target: name.startsWith("verify") ? 0.9 : undefined });
    }
  }
  return rows;
}

export async function main(argv = process.argv.slice(2)) {
  const rows = await measureWebhooks({ quick: argv.includes("--quick") });
  if (argv.includes("--json")) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  printTable("Webhook verification (ops/s; baseline: bare node:crypto HMAC + timingSafeEqual, same run)", rows);
  console.log("\nratio: median of per-round ratios over alternating rounds (min–max across rounds).");
}

runIfMain(import.meta.url, main);
