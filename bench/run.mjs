// Runs every bench in turn (`npm run bench`). Each bench module exports `main(argv)` and prints its own report;
// `--quick` (tiny inputs, a few rounds) is what `test/packaging/benches.test.ts` runs to check they all work.

const BENCHES = [
  { name: "sizes", load: () => import("./sizes.mjs") },
  { name: "webhooks", load: () => import("./webhooks.mjs") },
  { name: "transport", load: () => import("./transport.mjs") },
  { name: "server", load: () => import("./server.mjs") },
  { name: "instructions", load: () => import("./instructions.mjs") },
  { name: "growth", load: () => import("./growth.mjs") },
];

const argv = process.argv.slice(2);
for (const bench of BENCHES) {
  console.log(`\n=== bench: ${bench.name} ===\n`);
  const { main } = await bench.load();
  await main(argv);
}
