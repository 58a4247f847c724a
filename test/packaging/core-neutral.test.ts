import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build } from "esbuild";
import { expect, it } from "vitest";

// Issue 9: the core runs in the server (Koa) and in @knify/sdk/testing (msw) alike, so nothing it reaches
// may need Node. Bundling its entry for a neutral platform lists every built-in module it would import.
const ENTRY = fileURLToPath(new URL("../../server/src/portable.ts", import.meta.url));
// What users load as `@knify/sdk/testing`: the built ESM bundle (npm test builds dist/ first).
const TESTING_BUNDLE = fileURLToPath(new URL("../../sdk/dist/testing.js", import.meta.url));
const BUILTIN =
  /^node:|^(assert|buffer|child_process|crypto|dns|events|fs|http|https|net|os|path|perf_hooks|stream|string_decoder|tls|tty|url|util|worker_threads|zlib)(\/.*)?$/;

/** Bundles for a neutral platform; returns the built-ins reached (`module <- importer`) and the bundle. */
async function bundleNeutral(options: BuildOptions): Promise<{ reached: string[]; text: string }> {
  const reached: string[] = [];
  const result = await build({
    ...options,
    bundle: true,
    platform: "neutral",
    mainFields: ["module", "main"],
    write: false,
    logLevel: "silent",
    plugins: [
      {
        name: "record-builtins",
        setup(b) {
          b.onResolve({ filter: BUILTIN }, (args) => {
            reached.push(`${args.path} <- ${args.importer}`);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return { reached, text: result.outputFiles?.[0]?.text ?? "" };
}

it("server/src/portable.ts (core, handlers, scheduler, simulator, delivery worker, memory API) reaches no Node built-in", async () => {
  const { reached, text } = await bundleNeutral({ entryPoints: [ENTRY] });
  expect(reached).toEqual([]);
  // It did bundle the pipeline and the handlers (the entry is not empty).
  expect(text).toContain("idempotency_key_reused");
  expect(text).toContain("job_cleaned_up");
}, 60_000);

it("the built `@knify/sdk/testing` bundle reaches no Node built-in (it runs in a browser's msw too)", async () => {
  if (!existsSync(TESTING_BUNDLE)) throw new Error("sdk/dist is missing: run `npm run build` (npm test does) first.");
  // Its peer dependencies are the consumer's (msw has a browser build of its own): only the SDK's code is checked.
  const { reached, text } = await bundleNeutral({
    entryPoints: [TESTING_BUNDLE],
    external: ["msw", "msw/*", "ajv", "ajv/*", "ajv-formats"],
  });
  expect(reached).toEqual([]);
  expect(text).toContain("createKnifyMock");
  // It is the server's core (its pipeline's problem codes are in it), not a copy of its own.
  expect(text).toContain("idempotency_key_reused");
}, 60_000);

it("the built `@knify/sdk/testing` imports nothing but its peers: the server's part is bundled in", () => {
  if (!existsSync(TESTING_BUNDLE)) throw new Error("sdk/dist is missing: run `npm run build` (npm test does) first.");
  // Every `import … from "x"`, `require("x")` and esbuild's `__require("x")` (not the quoted ones in ajv's code
  // templates), ESM and CJS.
  const imported = (file: string) => {
    const text = readFileSync(file, "utf8");
    const found = [...text.matchAll(/^import .* from "([^"]+)";$|(?<!['\w])(?:__)?require\("([^"]+)"\)/gm)];
    return [...new Set(found.map((match) => match[1] ?? match[2]))].sort();
  };
  const peers = ["ajv-formats", "ajv/dist/2020.js", "msw"];
  expect(imported(TESTING_BUNDLE)).toEqual(peers);
  expect(imported(TESTING_BUNDLE.replace(/\.js$/, ".cjs"))).toEqual(peers);
});

it("`@knify/sdk/testing` stays within its budget: 80 KB min+gzip without its peers (msw, ajv)", async () => {
  if (!existsSync(TESTING_BUNDLE)) throw new Error("sdk/dist is missing: run `npm run build` (npm test does) first.");
  const { text } = await bundleNeutral({
    entryPoints: [TESTING_BUNDLE],
    external: ["msw", "msw/*", "ajv", "ajv/*", "ajv-formats"],
    minify: true,
  });
  // Issue 9: since the mock is the server's core, it carries the server's generated request validators
  // (~170 KB of ajv standalone code) and its handlers: 71 KB, up from 35 KB for the old hand-written mock.
  // A test helper, loaded by tests only; the budget catches a Node polyfill or a second copy sneaking in.
  expect(gzipSync(text).length).toBeLessThanOrEqual(80 * 1024);
}, 60_000);

it("notices a Node built-in when one is reachable (the check can fail)", async () => {
  const { reached } = await bundleNeutral({
    stdin: { contents: 'import { createHash } from "node:crypto"; export const h = createHash;', loader: "ts" },
  });
  expect(reached).toEqual(["node:crypto <- <stdin>"]);
});
