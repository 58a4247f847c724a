import { fileURLToPath } from "node:url";

/**
 * Where `npm run build` writes the dashboard, the API reference and the spec copies: server/public/.
 * This module runs from its source (server/src/site/, under tsx and vitest) or bundled into server/dist/.
 */
export const PUBLIC_DIR = fileURLToPath(
  new URL(import.meta.url.endsWith("/src/site/public-dir.ts") ? "../../public/" : "../public/", import.meta.url),
);
