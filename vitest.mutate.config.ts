import { mergeConfig } from "vitest/config";
import type { Reporter } from "vitest/node";
// @ts-expect-error the Stryker config is plain JavaScript (it is loaded by Stryker, not by tsc)
import { groups } from "./stryker.config.mjs";
import base from "./vitest.config.js";

// The Vitest config Stryker runs (see stryker.config.mjs): the same resolution and timeouts as `npm test`,
// with only the test files of the group being mutated (MUTATE_GROUP).
const group = (groups as Record<string, { tests: string[] }>)[process.env.MUTATE_GROUP ?? "auth"];

/** The runner's own task tree behind a reported module (what Stryker's runner reads). */
interface Task {
  type: string;
  mode: string;
  result?: { state: string; errors?: unknown[] };
  tasks?: Task[];
}

/**
 * A mutant that breaks a file's `beforeAll` (say, the server's start or its first key) makes Vitest skip
 * that file's tests, and `npm test` fails on the file. Stryker's vitest runner 9.6.1 reads those tests as
 * skipped — it looks for a failed suite through `test.suite`, which Vitest ≥ 2 leaves undefined for a
 * file's top-level tests — and so reports such a mutant as survived. This reporter marks the tests of a
 * failed file as failed with the file's error, which is what they are.
 */
const hookFailuresFailTests: Reporter = {
  onTestRunEnd(modules) {
    for (const module of modules) {
      const file = (module as unknown as { task: Task }).task;
      const result = file.result;
      if (result?.state !== "fail") continue;
      const fail = (task: Task): void => {
        if (task.type === "suite") {
          for (const child of task.tasks ?? []) fail(child);
        } else if (task.result?.state !== "pass" && task.result?.state !== "fail") {
          task.mode = "run";
          task.result = { state: "fail", errors: result.errors ?? [] };
        }
      };
      fail(file);
    }
  },
};

const config = mergeConfig(base, {});
// Set, not merged: mergeConfig would append these to the base config's `test/**/*.test.ts`. The base config's
// projects are dropped: each project has its own `include` (every test file), which would override this one
// and make every mutant of every group run the whole suite.
config.test = {
  ...config.test,
  projects: undefined,
  include: group?.tests ?? [],
  reporters: ["default", hookFailuresFailTests],
};

export default config;
