import specJson from "./generated/spec.json" with { type: "json" };

/** The OpenAPI document, as generated from openapi.yaml (bundled into the built server; tsx and vitest read the file). */
export const spec = specJson as unknown as {
  info: { version: string };
  components: { schemas: { Permission: { enum: string[] } } & Record<string, unknown> };
};
