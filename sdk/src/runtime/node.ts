import type { CreateRuntime } from "../core/runtime.js";
import { archiveDirectory, extractArchive } from "./node-archive.js";
import { UndiciHttp } from "./undici-http.js";

/** The runtime in Node: undici's dispatcher for HTTP, tar for directories (each loaded on first use). */
export const createRuntime: CreateRuntime = (errors) => ({
  http: (dispatcher) => new UndiciHttp(dispatcher),
  archiveDirectory: (dir, filter) => archiveDirectory(dir, filter, errors),
  extractArchive: (archive, dir) => extractArchive(archive, dir, errors),
});
