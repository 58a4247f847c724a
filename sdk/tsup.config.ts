import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", webhooks: "src/webhooks.ts", testing: "src/testing.ts" },
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  // Shared chunks for CJS too, so `@knify/sdk` and `@knify/sdk/webhooks` share one WebhookVerificationError
  // class (without it each CJS entry bundles its own copy and `instanceof` across entries fails).
  splitting: true,
  target: "node20",
  platform: "node",
  // Bundled: their ESM-only default export breaks esbuild's CJS interop (toolchain.md, failure 1).
  noExternal: ["openapi-fetch", "@noble/hashes"],
  // Loaded lazily (tar) or only by the testing entry (msw, ajv): the consumer installs them.
  external: ["msw", "ajv", "ajv-formats", "tar"],
});
