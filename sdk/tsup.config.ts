import { defineConfig, type Options } from "tsup";

type Plugin = NonNullable<Options["esbuildPlugins"]>[number];

/**
 * The sources import Node's runtime (`../runtime/node.js`), so tests and type checks see one program. The
 * build leaves that choice to the package's `#runtime` import map instead (package.json "imports"): Node
 * resolves it to dist/runtime-node.*, every other runtime and browser bundler to dist/runtime-default.*,
 * so undici and tar never reach a browser bundle (issue 14, item 1).
 */
const runtimeByCondition: Plugin = {
  name: "knify-runtime-by-condition",
  setup(build) {
    build.onResolve({ filter: /\/runtime\/node\.js$/ }, (args) =>
      args.kind === "entry-point" ? undefined : { path: "#runtime", external: true },
    );
  },
};

export default defineConfig({
  entry: {
    index: "src/index.ts",
    webhooks: "src/webhooks.ts",
    testing: "src/testing.ts",
    "runtime-node": "src/runtime/node.ts",
    "runtime-default": "src/runtime/default.ts",
  },
  format: ["esm", "cjs"],
  dts: { entry: { index: "src/index.ts", webhooks: "src/webhooks.ts", testing: "src/testing.ts" } },
  sourcemap: true,
  clean: true,
  // Shared chunks for CJS too, so `@knify/sdk` and `@knify/sdk/webhooks` share one WebhookVerificationError
  // class (without it each CJS entry bundles its own copy and `instanceof` across entries fails).
  splitting: true,
  target: "node20",
  platform: "node",
  // Bundled: their ESM-only default export breaks esbuild's CJS interop (toolchain.md, failure 1).
  noExternal: ["openapi-fetch", /^@stablelib\//],
  // Loaded lazily by Node's runtime (undici, tar) or only by the testing entry (msw, ajv): the consumer installs them.
  external: ["msw", "ajv", "ajv-formats", "tar", "undici", "#runtime"],
  esbuildPlugins: [runtimeByCondition],
});
