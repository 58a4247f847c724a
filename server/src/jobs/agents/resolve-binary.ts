import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";

/**
 * Finds an executable the way a shell would: a name with a "/" is taken as a path, a bare name is looked
 * up in `PATH`. Returns the absolute path, or null when there is none (the job then fails at once with
 * `agent_not_installed` instead of a spawn error later).
 */
export async function resolveBinary(bin: string, pathVariable: string | undefined): Promise<string | null> {
  if (bin.includes("/")) return (await isExecutable(bin)) ? resolve(bin) : null;
  for (const dir of (pathVariable ?? "").split(delimiter)) {
    // An empty or relative PATH entry would resolve against the server's cwd: never look there.
    if (dir === "" || !isAbsolute(dir)) continue;
    const candidate = join(dir, bin);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
