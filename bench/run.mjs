// Runs every bench in turn (`npm run bench`). Each bench module exports `main()` and prints its own report.
// Only the size bench exists so far; performance benches come later.

const BENCHES = [{ name: "sizes", load: () => import("./sizes.mjs") }];

for (const bench of BENCHES) {
  console.log(`\n=== bench: ${bench.name} ===\n`);
  const { main } = await bench.load();
  await main([]);
}
