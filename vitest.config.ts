import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const sdk = (file: string) => fileURLToPath(new URL(`./sdk/src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import the SDK by its package name; point that at the sources so a test run needs no rebuild.
    // The built dist/ is checked separately by test/packaging (ESM, CJS and TypeScript consumers).
    alias: [
      { find: /^@knify\/sdk$/, replacement: sdk("index.ts") },
      { find: /^@knify\/sdk\/webhooks$/, replacement: sdk("webhooks.ts") },
      { find: /^@knify\/sdk\/testing$/, replacement: sdk("testing.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
