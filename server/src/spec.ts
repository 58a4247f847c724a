import { createRequire } from "node:module";

// The bundled spec (written by `npm run gen`). Read through require so that it works the same under tsx, vitest and node.
const require = createRequire(import.meta.url);

/** The OpenAPI document, as generated from openapi.yaml. */
export const spec = require("./generated/spec.json") as {
  info: { version: string };
  components: { schemas: { Permission: { enum: string[] } } & Record<string, unknown> };
};
