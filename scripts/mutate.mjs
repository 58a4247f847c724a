#!/usr/bin/env node
// `npm run mutate [group...] [-- stryker options]`: runs Stryker once per group of stryker.config.mjs, one
// after the other, at a low CPU priority. Each group has its own incremental file, so a second run recomputes
// only what changed. Options after the group names go to Stryker as they are, e.g.
// `npm run mutate -- http --mutate server/src/http/idempotency.ts:40-90` to re-test a few lines.
import { spawnSync } from "node:child_process";
import { groups } from "../stryker.config.mjs";

const args = process.argv.slice(2);
const firstOption = args.findIndex((arg) => arg.startsWith("-"));
const wanted = firstOption < 0 ? args : args.slice(0, firstOption);
const options = firstOption < 0 ? [] : args.slice(firstOption);
const unknown = wanted.filter((name) => !(name in groups));
if (unknown.length > 0) {
  console.error(`Unknown group(s) ${unknown.join(", ")}; the groups are ${Object.keys(groups).join(", ")}.`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : Object.keys(groups)) {
  console.log(`\n=== mutation testing: ${name} (${groups[name].mutate.join(", ")})`);
  const run = spawnSync("nice", ["-n", "15", "npx", "stryker", "run", ...options], {
    stdio: "inherit",
    env: { ...process.env, MUTATE_GROUP: name },
  });
  if (run.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
