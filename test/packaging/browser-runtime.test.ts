// The runtime a browser, worker or edge bundle of `@knify/sdk` gets (`#runtime`'s default condition): fetch for
// HTTP, and no file system, so a directory upload (or an extraction) is refused with the SDK's own KnifyError (the
// class passed in by `createRuntime`, so `instanceof` holds for what the runtime throws). The package is
// bundled from its dist/ as a browser bundler would, then run here.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "knify-browser-runtime-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the browser build's runtime", () => {
  it("refuses a directory upload with a KnifyError that says what to do instead", async () => {
    const result = await build({
      stdin: { contents: 'export * from "@knify/sdk";', resolveDir: ROOT, loader: "js" },
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    const file = join(dir, "sdk-browser.mjs");
    writeFileSync(file, result.outputFiles[0]?.text ?? "");
    const sdk = (await import(pathToFileURL(file).href)) as typeof import("@knify/sdk");
    const client = new sdk.KnifyClient("knify_test_x", { baseURL: "http://127.0.0.1:9", maxRetries: 0 });
    const upload = await client.workspaces.upload({ name: "x", path: "./project" }).then(
      () => "uploaded",
      (error: unknown) => error,
    );
    expect(upload).toBeInstanceOf(sdk.KnifyError);
    expect((upload as Error).message).toBe(
      "Uploading a directory ({ path }) needs Node.js (a file system); this runtime loaded @knify/sdk's browser build. " +
        "Pass the archive's bytes instead: workspaces.upload({ data }) takes a .tar.gz, and jobs.archive(id) returns one.",
    );
  });
});
