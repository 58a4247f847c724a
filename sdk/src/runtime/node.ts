import type { Runtime } from "../core/runtime.js";
import { archiveDirectory, extractArchive } from "./node-archive.js";
import { UndiciHttp } from "./undici-http.js";

/** The runtime in Node: undici's dispatcher for HTTP, tar for directories (each loaded on first use). */
export const runtime: Runtime = {
  http: (dispatcher) => new UndiciHttp(dispatcher),
  archiveDirectory,
  extractArchive,
};
