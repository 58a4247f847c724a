import { KnifyError } from "./knify-error.js";
import type { Runtime } from "./runtime.js";

let loaded: Promise<Runtime> | undefined;

/**
 * This runtime's {@link Runtime}, imported on first use (a client's construction), not with the SDK: that
 * kept `import('@knify/sdk')` two modules lighter (issue 11, part 2: cold import ≤ 15 ms).
 */
export function loadRuntime(): Promise<Runtime> {
  loaded ??= import("../runtime/node.js").then((module) => module.createRuntime({ KnifyError }));
  return loaded;
}
