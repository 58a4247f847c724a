// Mutation testing over the rules that guard security and money (issue 17). `npm run mutate` runs every
// group below, one after the other; `npm run mutate -- auth http` runs only those. Not part of `npm test`
// or CI: a full run takes hours on 2 cores. Scores and survivors are kept in test/MUTATION.md.

/**
 * What is mutated, by group, and which test files may kill its mutants. THE one list to update when a file
 * moves (e.g. when the pipeline moves into the framework-free core): each `mutate` glob is relative to the
 * repository root. `tests` only narrows which files Vitest loads for that group; a test left out can only
 * turn a killed mutant into a survivor, never the other way round, so a narrow list cannot inflate the score.
 * The slowest suites (jobs, restarts, child processes) are left out to keep a run within reach of 2 cores.
 */
export const groups = {
  auth: {
    mutate: ["server/src/auth/**/*.ts", "server/src/keys/**/*.ts"],
    tests: [
      "test/server/keys.test.ts",
      "test/server/key-administration.test.ts",
      "test/server/rate-limit.test.ts",
      "test/server/job-streams.test.ts",
      "test/contract/server.test.ts",
      "test/security/secrets-at-rest.test.ts",
      "test/rules/authentication.test.ts",
      "test/rules/key-lifetimes.test.ts",
      "test/rules/usage.test.ts",
      "test/rules/cross-tenant.test.ts",
    ],
  },
  http: {
    mutate: ["server/src/http/**/*.ts", "!server/src/http/fetch-adapter.ts"],
    tests: [
      "test/server/keys.test.ts",
      "test/server/rate-limit.test.ts",
      "test/server/health.test.ts",
      "test/server/trust-proxy.test.ts",
      "test/contract/server.test.ts",
      "test/security/hostile-input.test.ts",
      "test/security/validation-holes.test.ts",
      "test/rules/authentication.test.ts",
      "test/rules/idempotency.test.ts",
      "test/rules/usage.test.ts",
      "test/rules/validation-messages.test.ts",
      "test/rules/json-bodies.test.ts",
      "test/rules/routing.test.ts",
      "test/rules/core-errors.test.ts",
      "test/rules/pipeline-edges.test.ts",
      "test/rules/http-helpers.test.ts",
      "test/rules/idempotency-renewal.test.ts",
    ],
  },
  // The web (fetch) adapter the core runs behind in @knify/sdk/testing: the mock's suites exercise it, and
  // are kept out of the `http` group, where each of its ~300 static mutants would run them too.
  "http-web": {
    mutate: ["server/src/http/fetch-adapter.ts"],
    tests: ["test/rules/fetch-adapter.test.ts", "test/contract/mock.test.ts", "test/sdk/testing-mock.test.ts"],
  },
  store: {
    mutate: [
      "server/src/store/sqlite/keys.ts",
      "server/src/store/sqlite/requests.ts",
      "server/src/store/sqlite/idempotency.ts",
      "server/src/store/sqlite/outbox.ts",
      // The rules every store shares, and the memory and PostgreSQL stores (issue 17, item 3).
      "server/src/store/gcra.ts",
      "server/src/store/job-rules.ts",
      "server/src/store/memory/{keys,requests,idempotency,outbox}.ts",
      "server/src/store/postgres/{keys,requests,idempotency,outbox}.ts",
    ],
    tests: [
      "test/store/memory.test.ts",
      "test/store/sqlite.test.ts",
      "test/store/postgres.test.ts",
      "test/server/keys.test.ts",
      "test/server/key-administration.test.ts",
      "test/server/rate-limit.test.ts",
      "test/server/webhook-endpoint-update.test.ts",
      "test/rules/key-lifetimes.test.ts",
      "test/rules/idempotency.test.ts",
      "test/rules/usage.test.ts",
      "test/rules/cross-tenant.test.ts",
      "test/rules/webhook-outbox.test.ts",
      "test/rules/unwanted-events.test.ts",
      // The SQLite files in the server's mode (in-memory TATs, the key cache's pending last use).
      "test/store/sqlite-serving.test.ts",
      "test/store/sqlite-connections.test.ts",
    ],
  },
  // The SQLite store in the server's mode (issue 11): the serve lock, in-memory TATs written with the usage
  // flush, and the job record cache (its write tracking and the cached get).
  serving: {
    mutate: [
      "server/src/store/sqlite/serve-lock.ts",
      "server/src/store/sqlite/usage-ledger.ts",
      "server/src/store/sqlite/requests.ts",
      "server/src/store/sqlite/job-statements.ts:8-13",
      "server/src/store/sqlite/job-statements.ts:84-102",
      // The job cache's read, and the frozen records it hands out (presented and serialised once).
      "server/src/store/sqlite/jobs.ts:88-101",
      "server/src/frozen.ts",
    ],
    tests: [
      "test/store/sqlite-serving.test.ts",
      "test/store/sqlite.test.ts",
      "test/store/sqlite-connections.test.ts",
      "test/rules/usage.test.ts",
      "test/rules/frozen-records.test.ts",
    ],
  },
  webhooks: {
    mutate: ["server/src/webhooks/sign.ts", "server/src/webhooks/ssrf.ts", "server/src/webhooks/guarded-lookup.ts"],
    tests: [
      "test/server/webhooks.test.ts",
      "test/server/webhooks-internals.test.ts",
      "test/server/webhook-endpoint-update.test.ts",
      "test/rules/webhook-urls.test.ts",
      "test/rules/ssrf-lookup.test.ts",
      "test/rules/cross-tenant.test.ts",
    ],
  },
  "webhook-worker": {
    mutate: ["server/src/webhooks/worker.ts"],
    // The delivery worker runs on its own timers, so per-test coverage pins its code on whichever test
    // happened to be running, and the test that would kill a mutant is not run (a 503 counted as success
    // was reported survived, yet fails the retry tests): every mutant here runs every test of the group,
    // which is why the group is the worker alone with its fast suites.
    coverageAnalysis: "all",
    tests: ["test/server/webhooks.test.ts", "test/rules/webhook-outbox.test.ts", "test/rules/webhook-worker.test.ts"],
  },
  // The job jail (issue 15): the settings and limits a sandbox gets, and the bubblewrap command line built
  // from them. The server's start reads the settings and probes the jail (a jailed `true` through
  // `BubblewrapIsolation.prepare`), so nearly every mutant here is static and runs every test of the group:
  // with the real-jail suites (test/security/sandbox-jail.test.ts, test/server/jobs-sandbox.test.ts, ~25 s a
  // run) that is hours on 2 cores, so they are left out, and a survivor they might kill is planted by hand
  // against them instead (test/MUTATION.md).
  isolation: {
    mutate: [
      "server/src/jobs/isolation/config.ts",
      "server/src/jobs/isolation/limits.ts",
      "server/src/jobs/isolation/agent-env.ts",
      "server/src/jobs/isolation/bubblewrap.ts",
    ],
    tests: ["test/server/sandbox-settings.test.ts", "test/rules/sandbox-rules.test.ts"],
  },
  // Real agents (issue 13): the stream-json parsers, the prompt, and the redaction of secrets in their output.
  agents: {
    mutate: ["server/src/jobs/agents/{adapter,agent-events,cursor,claude,gemini,prompt,redact}.ts"],
    tests: ["test/server/agent-parsers.test.ts", "test/server/jobs-agents.test.ts", "test/rules/agent-streams.test.ts"],
  },
  workspaces: {
    mutate: ["server/src/workspaces/entry-path.ts"],
    tests: [
      "test/server/workspace-archive.test.ts",
      "test/server/workspace-multipart.test.ts",
      "test/server/workspaces.test.ts",
      "test/security/workspace-names.test.ts",
      "test/rules/archive-paths.test.ts",
    ],
  },
  sdk: {
    mutate: ["sdk/src/core/transport.ts", "sdk/src/webhooks/**/*.ts"],
    tests: [
      "test/sdk/client.test.ts",
      "test/sdk/errors.test.ts",
      "test/sdk/resources.test.ts",
      "test/sdk/transport.test.ts",
      "test/sdk/pagination.test.ts",
      "test/sdk/webhooks.test.ts",
      "test/sdk/webhooks-python.test.ts",
      "test/rules/sdk-*.test.ts",
    ],
  },
};

/** The group this run mutates: `MUTATE_GROUP` (set by scripts/mutate.mjs). */
const name = process.env.MUTATE_GROUP ?? "auth";
const group = groups[name];
if (!group) throw new Error(`MUTATE_GROUP must be one of ${Object.keys(groups).join(", ")}; got ${name}`);

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "vitest.mutate.config.ts", related: false },
  // Which tests reach which mutant, so each mutant runs only the tests that execute it.
  coverageAnalysis: group.coverageAnalysis ?? "perTest",
  mutate: group.mutate,
  // Type errors a mutant causes are not run (they would be killed by `npm run typecheck` anyway).
  checkers: [],
  // Nothing type-checks a mutant (Vitest strips the types), so no file needs Stryker's `// @ts-nocheck`. Adding
  // it rewrites every script under test/ in the sandbox and drops its mode: the agent stand-ins
  // (test/fixtures/agents/*.mjs, run through their shebang) lost their exec bit and every agents test failed.
  disableTypeChecks: false,
  // Only the results of changed code or changed tests are recomputed; the file is kept per group (see
  // test/MUTATION.md for why it is not committed).
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  // 2 shared cores: one test process at a time, and generous timeouts, since a loaded machine is slow.
  concurrency: 1,
  timeoutMS: 20_000,
  timeoutFactor: 3,
  thresholds: { high: 90, low: 80, break: null },
  // One temp dir per group, so two groups may run at once without removing each other's sandbox.
  tempDirName: `.stryker-tmp-${name}`,
  ignorePatterns: [
    "data",
    "reports",
    ".stryker-tmp-*",
    "coverage",
    ".vitest-report.json",
    "sdk/dist",
    "**/*.tsbuildinfo",
  ],
  cleanTempDir: true,
};
