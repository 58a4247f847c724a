import type { CreateRuntime } from "../core/runtime.js";

// Browsers, workers and edge runtimes: `fetch` is the HTTP client, and there is no file system to archive
// or unpack a directory with.

/** The runtime outside Node. */
export const createRuntime: CreateRuntime = ({ KnifyError }) => {
  const nodeOnly = (what: string) =>
    Promise.reject(
      new KnifyError(
        `${what} needs Node.js (a file system); this runtime loaded @knify/sdk's browser build. ` +
          "Pass the archive's bytes instead: workspaces.upload({ data }) takes a .tar.gz, and jobs.archive(id) returns one.",
      ),
    );
  return {
    http: () => undefined,
    archiveDirectory: () => nodeOnly("Uploading a directory ({ path })"),
    extractArchive: () => nodeOnly("jobs.archive.extractTo()"),
  };
};
