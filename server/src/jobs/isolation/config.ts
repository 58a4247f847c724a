import { isAbsolute, normalize, relative, sep } from "node:path";
import { ConfigError, envInteger } from "../../config.js";
import type { SandboxLimits, SandboxNetwork } from "./isolation.js";

/** How agent turns are jailed (`KNIFY_SANDBOX_*`). */
export interface SandboxConfig {
  isolation: "bubblewrap" | "none";
  network: SandboxNetwork;
  limits: SandboxLimits;
  /** Names of the server's variables that reach the agent (its model API credentials). */
  passEnv: string[];
  /** Host paths mounted read-only at the same place in the jail (an agent CLI installed outside /usr). */
  readOnlyPaths: string[];
  /** The first of the uids (and gids) jailed turns run as when the server runs as root; one per running turn. */
  uidBase: number;
  /** The bubblewrap binary. */
  bwrapPath: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads and validates the sandbox settings. `defaultNetwork` is the runner's: `none` for the command runner
 * (it needs no network to run a local command), `full` for agent CLIs, which call their model's API.
 * @example const sandbox = loadSandboxConfig(process.env, { defaultNetwork: "none", dataDir: "/var/lib/knify" });
 */
export function loadSandboxConfig(
  env: NodeJS.ProcessEnv,
  options: { defaultNetwork: SandboxNetwork; dataDir: string },
): SandboxConfig {
  const isolation = env.KNIFY_SANDBOX_ISOLATION || "bubblewrap";
  if (isolation !== "bubblewrap" && isolation !== "none") {
    throw new ConfigError(`KNIFY_SANDBOX_ISOLATION must be "bubblewrap" or "none"; got ${JSON.stringify(isolation)}.`);
  }
  const network = env.KNIFY_SANDBOX_NETWORK || options.defaultNetwork;
  if (network !== "none" && network !== "full") {
    throw new ConfigError(`KNIFY_SANDBOX_NETWORK must be "none" or "full"; got ${JSON.stringify(network)}.`);
  }
  const passEnv = list(env.KNIFY_SANDBOX_PASS_ENV);
  for (const name of passEnv) {
    // The server's own settings (database, secret key) must never be handed to an agent, even by a typo.
    if (!NAME.test(name) || name.startsWith("KNIFY_")) {
      throw new ConfigError(
        `KNIFY_SANDBOX_PASS_ENV lists variable names (not KNIFY_* ones), separated by commas; got ${JSON.stringify(name)}.`,
      );
    }
  }
  const readOnlyPaths = list(env.KNIFY_SANDBOX_READONLY_PATHS).map((path) => {
    if (!isAbsolute(path)) {
      throw new ConfigError(`KNIFY_SANDBOX_READONLY_PATHS takes absolute paths; got ${JSON.stringify(path)}.`);
    }
    const normalized = normalize(path);
    if (overlaps(normalized, options.dataDir)) {
      throw new ConfigError(
        `KNIFY_SANDBOX_READONLY_PATHS must not contain the data dir (${options.dataDir}) nor lie inside it; got ${JSON.stringify(path)}.`,
      );
    }
    return normalized;
  });
  const mb = 2 ** 20;
  return {
    isolation,
    network,
    passEnv,
    readOnlyPaths,
    uidBase: envInteger(env, "KNIFY_SANDBOX_UID", 200_000, 1000, 2 ** 31 - 100_000),
    bwrapPath: env.KNIFY_SANDBOX_BWRAP || "/usr/bin/bwrap",
    limits: {
      cpuSeconds: envInteger(env, "KNIFY_SANDBOX_CPU_SECONDS", 1800, 1, 7 * 24 * 3600),
      memoryBytes: envInteger(env, "KNIFY_SANDBOX_MEMORY_MB", 8192, 64, 1024 * 1024) * mb,
      maxProcesses: envInteger(env, "KNIFY_SANDBOX_MAX_PROCESSES", 512, 8, 1_000_000),
      maxFileBytes: envInteger(env, "KNIFY_SANDBOX_MAX_FILE_MB", 1024, 1, 1024 * 1024) * mb,
      tmpBytes: envInteger(env, "KNIFY_SANDBOX_TMP_MB", 512, 1, 1024 * 1024) * mb,
    },
  };
}

function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

/** True when one path is the other or lies inside it. */
function overlaps(a: string, b: string): boolean {
  const inside = (child: string, parent: string) => {
    const rel = relative(parent, child);
    // Outside means `..` or `../…` exactly: `..cache` is a file name inside the parent.
    return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
  };
  return inside(a, b) || inside(b, a);
}
