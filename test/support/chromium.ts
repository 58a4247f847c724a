import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (`.ci/run` installs the `chromium` package); playwright's own download cannot work here. */
export const CHROMIUM = process.env.KNIFY_TEST_CHROMIUM || "/usr/bin/chromium";

/**
 * Whether the browser tests can run. Without Chromium they are skipped with a loud message on a developer's
 * machine; under CI a missing Chromium is a failure (the caller's beforeAll launches it and throws).
 */
export const chromiumAvailable = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!chromiumAvailable) {
  console.warn(`\n!!! ${CHROMIUM} is missing: the browser tests are SKIPPED (apt-get install chromium).\n`);
}

/**
 * Launches headless Chromium (playwright gives each launch a fresh temporary profile) with no background
 * networking: this machine's network is closed, and without these flags Chromium keeps trying Google's hosts.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
