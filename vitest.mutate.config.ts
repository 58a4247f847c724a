import { mergeConfig } from "vitest/config";
// @ts-expect-error the Stryker config is plain JavaScript (it is loaded by Stryker, not by tsc)
import { groups, ruleTests } from "./stryker.config.mjs";
import base from "./vitest.config.js";

// The Vitest config Stryker runs (see stryker.config.mjs): the same resolution and timeouts as `npm test`,
// with only the test files of the group being mutated (MUTATE_GROUP), plus test/rules/.
const group = (groups as Record<string, { tests: string[] }>)[process.env.MUTATE_GROUP ?? "auth"];

const config = mergeConfig(base, { test: { reporters: ["default"] } });
// Set, not merged: mergeConfig would append these to the base config's `test/**/*.test.ts`.
config.test = { ...config.test, include: [...(group?.tests ?? []), ruleTests], reporters: ["default"] };

export default config;
