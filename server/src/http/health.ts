import type { ServerConfig } from "../config.js";
import type { Handlers } from "../http/operation.js";

/** `GET /`: the one operation without a key. */
export function healthHandlers(config: ServerConfig): Handlers {
  return {
    getHealth: async () => ({ body: { status: "ok", version: config.version } }),
  };
}
