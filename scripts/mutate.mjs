#!/usr/bin/env node
// `npm run mutate [group...]`: runs Stryker once per group of stryker.config.mjs, one after the other, at a
// low CPU priority. Each group has its own incremental file, so a second run recomputes only what changed.
import { spawnSync } from "node:child_process";
import { groups } from "../stryker.config.mjs";

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in groups));
if (unknown.length > 0) {
  console.error(`Unknown group(s) ${unknown.join(", ")}; the groups are ${Object.keys(groups).join(", ")}.`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : Object.keys(groups)) {
  console.log(`\n=== mutation testing: ${name} (${groups[name].mutate.join(", ")})`);
  const run = spawnSync("nice", ["-n", "15", "npx", "stryker", "run"], {
    stdio: "inherit",
    env: { ...process.env, MUTATE_GROUP: name },
  });
  if (run.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
