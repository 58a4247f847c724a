import { createRequire } from "node:module";
import { dirname, join } from "node:path";
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

/**
 * The server's ids use `ulid`, whose `node` export imports Node's `crypto`; its browser build uses Web Crypto,
 * which Node 20 has too. `./testing` bundles the server's core, and must reach no Node built-in (issue 9).
 */
const ulidDir = dirname(createRequire(import.meta.url).resolve("ulid/package.json"));
const webCryptoUlid: Plugin = {
  name: "knify-web-crypto-ulid",
  setup(build) {
    build.onResolve({ filter: /^ulid$/ }, () => ({ path: join(ulidDir, "dist", "browser", "index.js") }));
  },
};

const common = {
  format: ["esm", "cjs"],
  sourcemap: true,
  // package.json's build script empties dist/ first: two configs cleaning one folder at once would race.
  clean: false,
  target: "node20",
  platform: "node",
} satisfies Options;

export default defineConfig([
  {
    ...common,
    entry: {
      index: "src/index.ts",
      webhooks: "src/webhooks.ts",
      "runtime-node": "src/runtime/node.ts",
      "runtime-default": "src/runtime/default.ts",
    },
    dts: { entry: { index: "src/index.ts", webhooks: "src/webhooks.ts" } },
    // Shared chunks for CJS too, so `@knify/sdk` and `@knify/sdk/webhooks` share one WebhookVerificationError
    // class (without it each CJS entry bundles its own copy and `instanceof` across entries fails).
    splitting: true,
    // Bundled: their ESM-only default export breaks esbuild's CJS interop (toolchain.md, failure 1).
    noExternal: ["openapi-fetch", /^@stablelib\//],
    // Loaded lazily by Node's runtime: the consumer's install has them (dependencies).
    external: ["tar", "undici", "#runtime"],
    esbuildPlugins: [runtimeByCondition],
  },
  {
    // `./testing` is built on its own, one file per format: it bundles the server's CommonJS validators, whose
    // interop helpers would otherwise become a chunk that every entry of `.` imports.
    ...common,
    entry: { testing: "src/testing.ts" },
    dts: { entry: { testing: "src/testing.ts" } },
    splitting: false,
    // The server's runtime-neutral core (server/src, by relative import) and what it needs: @noble/*, and the
    // ajv runtime helpers its standalone validators require (a `require` in an ESM bundle would throw), so
    // users install no server package.
    noExternal: [/^@noble\//, /^ajv\/dist\/runtime\//, /^ajv-formats\/dist\/formats/],
    // The consumer installs msw and ajv (optional peer dependencies) for the response check.
    external: ["msw", "ajv", "ajv-formats"],
    esbuildPlugins: [webCryptoUlid],
  },
]);
