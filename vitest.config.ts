import { fileURLToPath } from "node:url";
import pg from "pg";
import { defineConfig } from "vitest/config";

const sdk = (file: string) => fileURLToPath(new URL(`./sdk/src/${file}`, import.meta.url));

// Issue 10: the contract and security suites also run against a server on PostgreSQL (test/support/server.ts
// gives each server a database of its own in this project). Where no database answers, CI fails (the project
// runs and its servers cannot start); a developer without PostgreSQL is told loudly and the project is left out.
// The security matrix runs inside the contract suite (test/contract/security-scenarios.ts).
const POSTGRES_SUITES = ["test/contract/server.test.ts"];
const POSTGRES_URL = process.env.KNIFY_TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test";

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const postgres = process.env.CI ? true : await postgresAnswers();
if (!postgres) {
  console.warn(
    `\n!!! PostgreSQL at ${POSTGRES_URL} does not answer: the "postgres" project (${POSTGRES_SUITES.join(", ")} on PostgreSQL) is SKIPPED.\n`,
  );
}

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
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
    projects: [
      { extends: true, test: { name: "default", include: ["test/**/*.test.ts"] } },
      ...(postgres
        ? [
            {
              extends: true as const,
              test: { name: "postgres", include: POSTGRES_SUITES, env: { KNIFY_TEST_DATABASE: "postgres" } },
            },
          ]
        : []),
    ],
  },
});
