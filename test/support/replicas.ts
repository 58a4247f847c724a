import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { join } from "node:path";

const bin = join(import.meta.dirname, "..", "..", "server", "bin", "knify-server.mjs");

/** One `knify-server start` process: a replica as an operator runs it. */
export interface Replica {
  id: string;
  url: string;
  process: ChildProcessWithoutNullStreams;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | NodeJS.Signals | null>;
}

/**
 * Starts `knify-server start` with `env` (plus a replica id and port 0) and resolves once it listens.
 * @example const replica = await startReplica("r1", { KNIFY_DATABASE_URL: url, KNIFY_DATA_DIR: dir });
 */
export function startReplica(id: string, env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, [bin, "start"], {
    env: { ...process.env, KNIFY_LOG_LEVEL: "info", ...env, KNIFY_REPLICA_ID: id, KNIFY_PORT: "0" },
  });
  let output = "";
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? code)),
  );
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /"url":"([^"]+)".*"msg":"listening"/.exec(output);
      if (match?.[1]) resolve({ id, url: match[1], process: child, output: () => output, exited });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => reject(new Error(`replica ${id} exited (${code}) before listening: ${output}`)));
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after `ms` (the usual `until`). */
export async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
