import { lstatSync, readlinkSync } from "node:fs";
import { passedEnv } from "./agent-env.js";
import { chownTree } from "./chown-tree.js";
import type { SandboxConfig } from "./config.js";
import { type Isolation, type JailRequest, jailFiles, type PreparedJail } from "./isolation.js";
import { prlimitArgs } from "./limits.js";
import { probeIsolation } from "./probe.js";

/** The sandbox inside the jail: the agent's working directory and HOME. */
export const WORKSPACE = "/workspace";

/** System directories mounted read-only (or re-created as the symlinks they are on merged-/usr systems). */
const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/**
 * The parts of /etc programs need (dynamic linker, TLS roots, DNS, time zone, `alternatives` symlinks), and nothing
 * else: /etc/shadow, ssh host keys or a service's config stay out. passwd and group are synthesized.
 */
const ETC_ENTRIES = [
  "/etc/alternatives",
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/localtime",
  "/etc/timezone",
  "/etc/nsswitch.conf",
  "/etc/host.conf",
  "/etc/hosts",
  "/etc/resolv.conf",
  "/etc/gai.conf",
  "/etc/protocols",
  "/etc/services",
  "/etc/ssl",
  "/etc/ca-certificates",
  "/etc/pki",
  "/etc/crypto-policies",
  "/etc/mime.types",
  "/etc/os-release",
  "/etc/debian_version",
];

/**
 * Jails a turn with bubblewrap (`bwrap`): new mount, PID, IPC, UTS and cgroup namespaces (and network with
 * `KNIFY_SANDBOX_NETWORK=none`), the sandbox bind-mounted read-write at /workspace, system directories read-only,
 * a fresh /proc, /dev and /tmp, `--die-with-parent` and `--new-session` (no TIOCSTI into the server's terminal).
 *
 * As root (bubblewrap then needs no user namespace), each running turn gets its own uid from `KNIFY_SANDBOX_UID`
 * upwards: `setpriv` drops to it with no capabilities and no_new_privs before the agent starts, and the sandbox is
 * chowned to it. A real, unprivileged host uid (rather than a user namespace mapping the agent back onto root) is
 * what makes root-only files unreadable even where mounted, and RLIMIT_NPROC — counted per uid — a per-turn
 * limit, so a fork bomb cannot starve other jobs. Not as root, bubblewrap makes a user namespace and the agent keeps
 * the server's uid (outside the jail nothing of the server is mounted, but the process limit is shared).
 */
export class BubblewrapIsolation implements Isolation {
  readonly name = "bubblewrap";
  readonly jailed = true;
  private readonly uidsInUse = new Set<number>();
  private readonly asRoot = process.getuid?.() === 0;

  constructor(
    private readonly config: SandboxConfig,
    /** Where the server's own variables come from, for `KNIFY_SANDBOX_PASS_ENV`. */
    private readonly serverEnv: NodeJS.ProcessEnv,
  ) {}

  agentPath(): string {
    return WORKSPACE;
  }

  async prepare(request: JailRequest): Promise<PreparedJail> {
    const uid = this.asRoot ? this.acquireUid() : (process.getuid?.() ?? 0);
    const release = () => {
      if (this.asRoot) this.uidsInUse.delete(uid);
    };
    try {
      if (this.asRoot) await chownTree(request.sandboxPath, uid, uid);
    } catch (error) {
      release();
      throw error;
    }
    const { limits, network, readOnlyPaths } = this.config;
    const files = jailFiles(request);
    const args = [
      ...(this.asRoot ? [] : ["--unshare-user"]),
      "--unshare-pid",
      "--unshare-ipc",
      "--unshare-uts",
      "--unshare-cgroup-try",
      ...(network === "none" ? ["--unshare-net"] : []),
      "--hostname",
      "knify-sandbox",
      "--die-with-parent",
      "--new-session",
      ...systemMounts(),
      // Directories bubblewrap makes on its own (as parents of a mount) are 0700 when it runs as root: the agent's
      // uid could not enter them, so they are made first, world-searchable.
      "--perms",
      "0755",
      "--dir",
      "/etc",
      ...ETC_ENTRIES.flatMap((path) => ["--ro-bind-try", path, path]),
      "--perms",
      "0644",
      "--ro-bind-data",
      "3",
      "/etc/passwd",
      "--perms",
      "0644",
      "--ro-bind-data",
      "4",
      "/etc/group",
      // Files the runner hands over (the job spec), from fds 5, 6, …, under /run/knify.
      ...(files.length > 0 ? ["--perms", "0755", "--dir", "/run", "--perms", "0755", "--dir", RUN_DIR] : []),
      ...files.flatMap((file, index) => [
        "--perms",
        "0444",
        "--ro-bind-data",
        String(5 + index),
        `${RUN_DIR}/${file.name}`,
      ]),
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      // Fresh, private and world-writable with the sticky bit, as /tmp is anywhere; sized, because a tmpfs is RAM
      // that no per-process limit counts.
      ...["/tmp", "/var/tmp"].flatMap((dir) => ["--perms", "01777", "--size", String(limits.tmpBytes), "--tmpfs", dir]),
      // After /tmp, so that a path under it is not hidden by the fresh one.
      ...[...new Set(readOnlyPaths.flatMap(ancestors))]
        .filter((dir) => !PREMADE_DIRS.has(dir))
        .flatMap((dir) => ["--perms", "0755", "--dir", dir]),
      ...readOnlyPaths.flatMap((path) => ["--ro-bind", path, path]),
      "--bind",
      request.sandboxPath,
      WORKSPACE,
      "--chdir",
      WORKSPACE,
      "--",
      ...(this.asRoot
        ? [
            "/usr/bin/setpriv",
            `--reuid=${uid}`,
            `--regid=${uid}`,
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
          ]
        : []),
      ...prlimitArgs("/usr/bin/prlimit", limits),
      ...request.argv,
    ];
    // The environment is built from nothing (bubblewrap passes its own on): what the runner sets, the credentials
    // the operator named, and the basics. Values never go on the command line, which other host users can read.
    const env: Record<string, string> = {
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: WORKSPACE,
      TMPDIR: "/tmp",
      LANG: "C.UTF-8",
      USER: "agent",
      ...passedEnv(this.config.passEnv, this.serverEnv),
      ...request.env,
      ...Object.fromEntries(files.map((file) => [file.env, `${RUN_DIR}/${file.name}`])),
    };
    return {
      file: this.config.bwrapPath,
      args,
      env,
      cwd: "/",
      fdData: [
        `root:x:0:0:root:/root:/usr/sbin/nologin\nagent:x:${uid}:${uid}:Knify agent:${WORKSPACE}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
        `root:x:0:\nagent:x:${uid}:\nnogroup:x:65534:\n`,
        ...files.map((file) => file.content),
      ],
      release,
    };
  }

  probe(): Promise<void> {
    return probeIsolation(this, this.asRoot);
  }

  /** The lowest uid from KNIFY_SANDBOX_UID not used by a running turn. */
  private acquireUid(): number {
    let uid = this.config.uidBase;
    while (this.uidsInUse.has(uid)) uid += 1;
    this.uidsInUse.add(uid);
    return uid;
  }
}

/** Directories the jail already has, with their own modes (/tmp is 1777, and must stay so). */
/** Where the runner's files appear inside the jail (see `JailRequest.files`). */
const RUN_DIR = "/run/knify";

const PREMADE_DIRS = new Set(["/etc", "/tmp", "/var", "/var/tmp", "/usr", "/dev", "/proc", WORKSPACE]);

/** "/a/b/c" → ["/a", "/a/b"]. */
function ancestors(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  return parts.slice(0, -1).map((_, index) => `/${parts.slice(0, index + 1).join("/")}`);
}

/** /usr read-only, and /bin, /lib… as what they are here: symlinks into /usr, or directories to mount read-only. */
function systemMounts(): string[] {
  const args: string[] = [];
  for (const path of SYSTEM_DIRS) {
    try {
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) args.push("--symlink", readlinkSync(path), path);
      else if (stat.isDirectory()) args.push("--ro-bind", path, path);
    } catch {
      // Not on this system (e.g. /lib32).
    }
  }
  return args;
}
