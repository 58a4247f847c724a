import type { components } from "../generated/schema.js";
import type { ResponseStream } from "../http/request.js";
import type { JobRecord } from "../store/jobs-repo.js";

type JobChange = components["schemas"]["JobChange"];

/**
 * What the job handlers do with a sandbox's files, behind one small interface so the handlers stay
 * runtime-neutral (issue 9): the server keeps sandboxes on disk (`diskSandboxFiles`), the mock in memory.
 * A `null` sandbox id is a job whose first turn was not provisioned yet: an empty sandbox.
 */
export interface SandboxFiles {
  /** Where the sandbox is: the agent's working directory. */
  path(sandboxId: string): string;
  /**
   * Makes sure the sandbox exists. A `fresh` one (the job's first turn) starts as a copy of the job's preset
   * or workspace files when the job copies its workspace (see `copiesWorkspace`), else empty, and what it
   * holds is recorded as the base of `changes`.
   */
  provision(sandboxId: string, job: JobRecord, fresh: boolean): Promise<void>;
  /** Bytes of the sandbox's regular files (they count against the workspace's disk quota). */
  measure(sandboxId: string): Promise<number>;
  /** Deletes a sandbox and its record of what it started with; a missing one is fine (cleanup is idempotent). */
  remove(sandboxId: string): Promise<void>;
  /** The sandbox as a `.tar.gz` stream. */
  archive(sandboxId: string | null): Promise<ResponseStream>;
  /** The files the agent added, modified or deleted since the sandbox was provisioned (capped; `truncated` beyond). */
  changes(sandboxId: string): Promise<{ changes: JobChange[]; truncated: boolean }>;
}
