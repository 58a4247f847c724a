import { build } from "esbuild";
import { describe, expect, it } from "vitest";

describe("the memory store", () => {
  // `@knify/sdk/testing` bundles it for browsers too: it must need nothing from Node (issue 9, deliverable 2).
  it("bundles for the browser without any Node built-in", async () => {
    const entry = new URL("../../server/src/store/memory/index.ts", import.meta.url).pathname;
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.endsWith("store/memory/index.ts"))).toBe(true);
    expect(inputs.filter((path) => path.startsWith("node:") || path.includes("better-sqlite3"))).toEqual([]);
  });
});
