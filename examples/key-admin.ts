// Key administration with an admin key: create a scoped key, check it, read its usage, rotate it, revoke it.
//
//   KNIFY_API_KEY=<an admin:all key> KNIFY_BASE_URL=http://127.0.0.1:8080 npx tsx examples/key-admin.ts [ws_…]
//
// The new key is limited to one workspace (default ws_example; it need not hold files yet) and may only read jobs.
// It is of the admin key's own type: a knify_test_ admin makes test keys, and never more than it holds itself.

import { AuthenticationError, KnifyClient, PermissionDeniedError } from "@knify/sdk";

const admin = new KnifyClient();
const workspaceId = process.argv[2] ?? "ws_example";

// 1. Create: the secret `api_key` is in this response only, so hand it to its user now.
const created = await admin.keys.create({
  name: "CI read-only",
  workspace_id: workspaceId,
  permissions: ["jobs:read"],
});
console.log(`Created key ${created.key_id} (${created.prefix}…) for ${created.workspace_id}`);
console.log(`  permissions: ${created.permissions.join(", ")}; rate limit ${created.rate_limit}/min`);

// 2. Verify: what the key itself sees. Each client holds one key; withOptions makes a sibling client.
const scoped = admin.withOptions({ apiKey: created.api_key });
const self = await scoped.keys.verify();
console.log(`Verified: ${self.key_id} is valid, ${self.type} key for ${self.workspace_id}`);
const jobs = await scoped.jobs.list();
console.log(`  it can list jobs: ${jobs.length} in its workspace`);
try {
  await scoped.jobs.create({ job_type: "cursor_task", prompt: "Hello" });
} catch (error) {
  if (!(error instanceof PermissionDeniedError)) throw error;
  console.log(`  it cannot create jobs: ${error.message}`);
}

// 3. Usage: request counts for the current UTC day and month.
const usage = await admin.keys.usage(created.key_id);
console.log(`Usage: ${usage.requests_today} requests today, ${usage.requests_this_month} this month`);
console.log(`  last used: ${usage.last_used ?? "never"}`);

// 4. Rotate: a new secret; the old one keeps working for the grace period while you redeploy.
const rotated = await admin.keys.rotate(created.key_id, { grace_period_seconds: 300 });
console.log(`Rotated: new secret ${rotated.prefix}…; the old one expires at ${rotated.previous_secret_expires_at}`);
const renewed = admin.withOptions({ apiKey: rotated.api_key });
console.log(`  new secret works: ${(await renewed.keys.verify()).valid}`);
console.log(`  old secret works during the grace period: ${(await scoped.keys.verify()).valid}`);

// 5. Revoke: every secret of the key stops working at once.
const revoked = await admin.keys.revoke(created.key_id);
console.log(`Revoked ${revoked.key_id} at ${revoked.revoked_at}`);
for (const [label, client] of [
  ["new", renewed],
  ["old", scoped],
] as const) {
  try {
    await client.withOptions({ maxRetries: 0 }).keys.verify();
    console.log(`  ${label} secret still works (unexpected)`);
    process.exitCode = 1;
  } catch (error) {
    if (!(error instanceof AuthenticationError)) throw error;
    console.log(`  ${label} secret is refused: ${error.status} ${error.code}`);
  }
}
