import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const repo = join(import.meta.dirname, "..", "..");

/**
 * Runs `scripts/build-site.mjs` (what `npm run build` runs) into a temp dir of the test's own, so test files
 * running side by side never swap server/public under each other. Needs the SDK built (`npm run build -w sdk`).
 * @example const site = await buildTestSite(); const server = await startTestServer({ publicDir: site.dir });
 */
export async function buildTestSite(): Promise<{ dir: string; remove(): void }> {
  if (!existsSync(join(repo, "sdk", "dist", "index.js"))) {
    throw new Error("The dashboard bundles the built SDK: run `npm run build` (or `npm run build -w sdk`) first.");
  }
  const root = mkdtempSync(join(tmpdir(), "knify-site-"));
  const dir = join(root, "public");
  await promisify(execFile)(process.execPath, [join(repo, "scripts", "build-site.mjs"), dir], { cwd: repo });
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) };
}
