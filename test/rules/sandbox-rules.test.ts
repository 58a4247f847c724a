import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../server/src/config.js";
import { passedEnv } from "../../server/src/jobs/isolation/agent-env.js";
import { BubblewrapIsolation, WORKSPACE } from "../../server/src/jobs/isolation/bubblewrap.js";
import { loadSandboxConfig, type SandboxConfig } from "../../server/src/jobs/isolation/config.js";
import type { SandboxLimits } from "../../server/src/jobs/isolation/isolation.js";
import { detectLimit, limitError, prlimitArgs } from "../../server/src/jobs/isolation/limits.js";
import { spawnJailed } from "../../server/src/jobs/isolation/spawn-jailed.js";

// Issue 17, from the mutation run of server/src/jobs/isolation (the `isolation` group): the settings a jail is
// built from, the limits and how a turn that ran into one is told, and the bubblewrap command line. The jail
// itself runs for real in test/security/sandbox-jail.test.ts; these pin the edges those end-to-end turns do not.

const MB = 2 ** 20;
const DATA_DIR = "/srv/knify-data";
const load = (env: Record<string, string>, defaultNetwork: "none" | "full" = "none") =>
  loadSandboxConfig(env, { defaultNetwork, dataDir: DATA_DIR });
const refusal = (env: Record<string, string>): string => {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return "accepted";
};

describe("the sandbox settings (KNIFY_SANDBOX_*)", () => {
  it("default to a bubblewrap jail with the runner's network and the documented limits", () => {
    expect(load({}, "full")).toEqual({
      isolation: "bubblewrap",
      network: "full",
      passEnv: [],
      readOnlyPaths: [],
      uidBase: 200_000,
      bwrapPath: "/usr/bin/bwrap",
      limits: {
        cpuSeconds: 1800,
        memoryBytes: 8192 * MB,
        maxProcesses: 512,
        maxFileBytes: 1024 * MB,
        tmpBytes: 512 * MB,
      },
    });
    expect(load({}).network).toBe("none");
  });

  it("read an empty variable as unset", () => {
    const config = load({ KNIFY_SANDBOX_ISOLATION: "", KNIFY_SANDBOX_NETWORK: "", KNIFY_SANDBOX_BWRAP: "" }, "full");
    expect([config.isolation, config.network, config.bwrapPath]).toEqual(["bubblewrap", "full", "/usr/bin/bwrap"]);
  });

  it("take each setting as given, limits in megabytes", () => {
    const config = load({
      KNIFY_SANDBOX_ISOLATION: "none",
      KNIFY_SANDBOX_NETWORK: "full",
      KNIFY_SANDBOX_PASS_ENV: " ANTHROPIC_API_KEY , ,_private2,",
      KNIFY_SANDBOX_READONLY_PATHS: "/opt//tools/./bin/, /usr/local/agents",
      KNIFY_SANDBOX_UID: "1000",
      KNIFY_SANDBOX_BWRAP: "/opt/bwrap",
      KNIFY_SANDBOX_CPU_SECONDS: "1",
      KNIFY_SANDBOX_MEMORY_MB: "64",
      KNIFY_SANDBOX_MAX_PROCESSES: "8",
      KNIFY_SANDBOX_MAX_FILE_MB: "1",
      KNIFY_SANDBOX_TMP_MB: "1",
    });
    expect(config).toEqual({
      isolation: "none",
      network: "full",
      passEnv: ["ANTHROPIC_API_KEY", "_private2"],
      readOnlyPaths: ["/opt/tools/bin/", "/usr/local/agents"],
      uidBase: 1000,
      bwrapPath: "/opt/bwrap",
      limits: { cpuSeconds: 1, memoryBytes: 64 * MB, maxProcesses: 8, maxFileBytes: MB, tmpBytes: MB },
    });
    expect(load({ KNIFY_SANDBOX_NETWORK: "none" }, "full").network).toBe("none");
    expect(load({ KNIFY_SANDBOX_ISOLATION: "bubblewrap" }).isolation).toBe("bubblewrap");
  });

  it("accept each limit's largest value and refuse one more, naming the variable", () => {
    const largest: Record<string, number> = {
      KNIFY_SANDBOX_UID: 2 ** 31 - 100_000,
      KNIFY_SANDBOX_CPU_SECONDS: 7 * 24 * 3600,
      KNIFY_SANDBOX_MEMORY_MB: 1024 * 1024,
      KNIFY_SANDBOX_MAX_PROCESSES: 1_000_000,
      KNIFY_SANDBOX_MAX_FILE_MB: 1024 * 1024,
      KNIFY_SANDBOX_TMP_MB: 1024 * 1024,
    };
    for (const [name, max] of Object.entries(largest)) {
      expect(refusal({ [name]: String(max) })).toBe("accepted");
      expect(refusal({ [name]: String(max + 1) })).toContain(name);
    }
  });

  it("refuse each limit one below its smallest value, naming the variable", () => {
    const smallest: Record<string, number> = {
      KNIFY_SANDBOX_UID: 1000,
      KNIFY_SANDBOX_CPU_SECONDS: 1,
      KNIFY_SANDBOX_MEMORY_MB: 64,
      KNIFY_SANDBOX_MAX_PROCESSES: 8,
      KNIFY_SANDBOX_MAX_FILE_MB: 1,
      KNIFY_SANDBOX_TMP_MB: 1,
    };
    for (const [name, min] of Object.entries(smallest)) {
      expect(refusal({ [name]: String(min - 1) })).toContain(name);
    }
  });

  it("refuse an isolation or network it does not know, quoting it", () => {
    expect(refusal({ KNIFY_SANDBOX_ISOLATION: "docker" })).toBe(
      'KNIFY_SANDBOX_ISOLATION must be "bubblewrap" or "none"; got "docker".',
    );
    expect(refusal({ KNIFY_SANDBOX_NETWORK: "host" })).toBe(
      'KNIFY_SANDBOX_NETWORK must be "none" or "full"; got "host".',
    );
  });

  it("pass on only variable names, never a KNIFY_ one", () => {
    for (const bad of ["KNIFY_SECRET_KEY", "1ST_KEY", "BAD-NAME", "A B", "X=1", "é"]) {
      expect(refusal({ KNIFY_SANDBOX_PASS_ENV: `OK,${bad}` })).toBe(
        `KNIFY_SANDBOX_PASS_ENV lists variable names (not KNIFY_* ones), separated by commas; got ${JSON.stringify(bad)}.`,
      );
    }
    // Anchored at both ends: a valid name followed or preceded by something else is still refused.
    expect(refusal({ KNIFY_SANDBOX_PASS_ENV: "GOOD!" })).toContain('got "GOOD!"');
    expect(refusal({ KNIFY_SANDBOX_PASS_ENV: "!GOOD" })).toContain('got "!GOOD"');
    expect(load({ KNIFY_SANDBOX_PASS_ENV: "MY_KNIFY_TOKEN" }).passEnv).toEqual(["MY_KNIFY_TOKEN"]);
  });

  it("mount only absolute paths that neither hold the data dir nor lie in it", () => {
    expect(refusal({ KNIFY_SANDBOX_READONLY_PATHS: "/opt,tools" })).toBe(
      'KNIFY_SANDBOX_READONLY_PATHS takes absolute paths; got "tools".',
    );
    // `..cache` is a name inside the data dir, not a way out of it (its relative path starts with "..").
    for (const path of [
      DATA_DIR,
      `${DATA_DIR}/`,
      `${DATA_DIR}/sandboxes`,
      "/srv",
      "/",
      `${DATA_DIR}/x/../..`,
      `${DATA_DIR}/..cache`,
      `${DATA_DIR}/...hidden`,
    ]) {
      expect(refusal({ KNIFY_SANDBOX_READONLY_PATHS: path })).toBe(
        `KNIFY_SANDBOX_READONLY_PATHS must not contain the data dir (${DATA_DIR}) nor lie inside it; got ${JSON.stringify(path)}.`,
      );
    }
    // A sibling whose name starts like the data dir's is neither.
    expect(load({ KNIFY_SANDBOX_READONLY_PATHS: `${DATA_DIR}-tools,/srv/other` }).readOnlyPaths).toEqual([
      `${DATA_DIR}-tools`,
      "/srv/other",
    ]);
  });
});

const limits: SandboxLimits = {
  cpuSeconds: 60,
  memoryBytes: 256 * MB,
  maxProcesses: 64,
  maxFileBytes: 10 * MB,
  tmpBytes: 16 * MB,
};

describe("the limits of a turn", () => {
  it("are set by prlimit before the agent starts, with a hard CPU limit two seconds after the soft one", () => {
    expect(prlimitArgs("/usr/bin/prlimit", limits)).toEqual([
      "/usr/bin/prlimit",
      "--cpu=60:62",
      `--as=${256 * MB}`,
      `--fsize=${10 * MB}`,
      "--core=0",
      "--nproc=64",
      "--",
    ]);
    expect(prlimitArgs("prlimit", limits, false)).not.toContain("--nproc=64");
    expect(prlimitArgs("prlimit", limits, false)).toHaveLength(6);
  });

  it("are named with their setting when a turn runs into one", () => {
    expect(limitError("cpu", limits)).toBe("the agent exceeded its CPU time limit (KNIFY_SANDBOX_CPU_SECONDS=60)");
    expect(limitError("memory", limits)).toBe("the agent exceeded its memory limit (KNIFY_SANDBOX_MEMORY_MB=256)");
    expect(limitError("processes", limits)).toBe(
      "the agent exceeded its process limit (KNIFY_SANDBOX_MAX_PROCESSES=64)",
    );
    expect(limitError("file_size", limits)).toBe(
      "the agent exceeded its file size limit (KNIFY_SANDBOX_MAX_FILE_MB=10)",
    );
  });

  it("are told from the exit signal, the shell's 128 + N, or what the agent printed", () => {
    const exit = (code: number | null, signal: NodeJS.Signals | null = null) => ({ code, signal });
    const cases: [ReturnType<typeof exit>, string, string | null][] = [
      [exit(null, "SIGXCPU"), "", "cpu"],
      [exit(152), "", "cpu"],
      [exit(1), "sh: line 1: 42 CPU time limit exceeded (core dumped)", "cpu"],
      [exit(null, "SIGXFSZ"), "", "file_size"],
      [exit(153), "", "file_size"],
      [exit(1), "dd: error writing 'big': File too large", "file_size"],
      [exit(1), "write EFBIG", "file_size"],
      [exit(1), "File size limit exceeded", "file_size"],
      [exit(2), "sh: 1: Cannot fork", "processes"],
      [exit(1), "bash: fork: Resource temporarily unavailable", "processes"],
      [exit(1), "Error: spawn /bin/sh EAGAIN", "processes"],
      [exit(1), "fork failed", "processes"],
      [exit(1), "python3: Cannot spawn", "processes"],
      [exit(1), "Traceback …\nMemoryError", "memory"],
      [exit(1), "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", "memory"],
      [exit(1), "terminate called after throwing an instance of 'std::bad_alloc'", "memory"],
      [exit(1), "mmap: Cannot allocate memory", "memory"],
      [exit(1), "ENOMEM", "memory"],
      [exit(1), "virtual memory exhausted", "memory"],
      [exit(1), "out of memory", "memory"],
      // SIGKILL is the CPU hard limit, the OOM killer or an operator: not attributed. Nor a plain failure.
      [exit(null, "SIGKILL"), "", null],
      [exit(137), "", null],
      [exit(24), "", null],
      [exit(1), "Error: something else", null],
      [exit(0), "", null],
    ];
    for (const [status, stderr, expected] of cases) {
      expect([status, stderr, detectLimit(status, stderr)]).toEqual([status, stderr, expected]);
    }
  });

  it("prefer CPU over file size over processes over memory when several show", () => {
    expect(detectLimit({ code: 153, signal: null }, "CPU time limit exceeded")).toBe("cpu");
    expect(detectLimit({ code: null, signal: "SIGXCPU" }, "File too large")).toBe("cpu");
    expect(detectLimit({ code: 1, signal: null }, "File too large; Cannot fork")).toBe("file_size");
    expect(detectLimit({ code: null, signal: "SIGXFSZ" }, "Cannot fork")).toBe("file_size");
    expect(detectLimit({ code: 1, signal: null }, "Cannot fork: out of memory")).toBe("processes");
  });
});

describe("the credentials an agent gets (KNIFY_SANDBOX_PASS_ENV)", () => {
  it("are the named variables the server has, empty ones included, and nothing else", () => {
    expect(passedEnv(["A_KEY", "UNSET", "EMPTY"], { A_KEY: "v", EMPTY: "", OTHER: "no" })).toStrictEqual({
      A_KEY: "v",
      EMPTY: "",
    });
  });
});

/**
 * What /etc holds in a jail on this host: the parts of the host's /etc programs need (those it has), and the
 * synthesized passwd and group; never shadow, ssh keys or a service's config.
 */
function etcInJail(): string {
  const needed = [
    "alternatives",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "nsswitch.conf",
    "host.conf",
    "hosts",
    "resolv.conf",
    "gai.conf",
    "protocols",
    "services",
    "ssl",
    "ca-certificates",
    "pki",
    "crypto-policies",
    "mime.types",
    "os-release",
    "debian_version",
  ].filter((name) => existsSync(`/etc/${name}`));
  return `${[...needed, "passwd", "group"].sort().join(" ")} `;
}

describe("the bubblewrap command line", () => {
  const dirs: string[] = [];
  const sandbox = () => {
    const dir = mkdtempSync(join(tmpdir(), "knify-sandbox-rules-"));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const config = (overrides: Partial<SandboxConfig> = {}): SandboxConfig => ({
    ...load({}),
    limits,
    uidBase: 300_000,
    ...overrides,
  });
  const asRoot = process.getuid?.() === 0;
  /** The values that follow each occurrence of an option. */
  const valuesOf = (args: string[], option: string, count = 1): string[][] =>
    args.flatMap((arg, index) => (arg === option ? [args.slice(index + 1, index + 1 + count)] : []));

  it("unshares the network only with KNIFY_SANDBOX_NETWORK=none, and every other namespace always", async () => {
    const none = await new BubblewrapIsolation(config({ network: "none" }), {}).prepare({
      sandboxPath: sandbox(),
      argv: ["/bin/true"],
      env: {},
    });
    const full = await new BubblewrapIsolation(config({ network: "full" }), {}).prepare({
      sandboxPath: sandbox(),
      argv: ["/bin/true"],
      env: {},
    });
    none.release();
    full.release();
    expect(none.args).toContain("--unshare-net");
    expect(full.args).not.toContain("--unshare-net");
    for (const args of [none.args, full.args]) {
      expect(args).toEqual(
        expect.arrayContaining([
          "--unshare-pid",
          "--unshare-ipc",
          "--unshare-uts",
          "--unshare-cgroup-try",
          "--die-with-parent",
          "--new-session",
        ]),
      );
      expect(valuesOf(args, "--hostname")).toEqual([["knify-sandbox"]]);
      expect(args.includes("--unshare-user")).toBe(!asRoot);
    }
  });

  it("mounts the sandbox alone read-write at /workspace, and the rest read-only or fresh", async () => {
    const path = sandbox();
    const jail = await new BubblewrapIsolation(config({ readOnlyPaths: ["/opt/agents/bin", "/tmp/cli"] }), {}).prepare({
      sandboxPath: path,
      argv: ["/opt/agents/bin/agent", "--flag", "a prompt"],
      env: {},
    });
    jail.release();
    const { args } = jail;
    expect(valuesOf(args, "--bind", 2)).toEqual([[path, WORKSPACE]]);
    expect(valuesOf(args, "--chdir")).toEqual([[WORKSPACE]]);
    expect(valuesOf(args, "--ro-bind", 2)).toEqual(
      expect.arrayContaining([
        ["/opt/agents/bin", "/opt/agents/bin"],
        ["/tmp/cli", "/tmp/cli"],
      ]),
    );
    expect(valuesOf(args, "--ro-bind-try", 2)).toEqual(
      expect.arrayContaining([
        ["/etc/resolv.conf", "/etc/resolv.conf"],
        ["/etc/ssl", "/etc/ssl"],
      ]),
    );
    expect(args.join(" ")).not.toMatch(/\/etc\/shadow|\/etc\/ssh/);
    expect(valuesOf(args, "--proc")).toEqual([["/proc"]]);
    expect(valuesOf(args, "--dev")).toEqual([["/dev"]]);
    expect(valuesOf(args, "--tmpfs")).toEqual([["/tmp"], ["/var/tmp"]]);
    // Each /tmp sticky and world-writable, and sized: a tmpfs is RAM that no process limit counts.
    expect(valuesOf(args, "--size", 3)).toEqual([
      [String(16 * MB), "--tmpfs", "/tmp"],
      [String(16 * MB), "--tmpfs", "/var/tmp"],
    ]);
    expect(args[args.indexOf("--size") - 1]).toBe("01777");
    // The parents of a read-only path are made first, world-searchable; the jail's own (/tmp) are left as they are.
    const made = valuesOf(args, "--dir").flat();
    expect(made).toEqual(expect.arrayContaining(["/etc", "/opt", "/opt/agents"]));
    expect(made).not.toContain("/tmp");
    expect(made).not.toContain("/opt/agents/bin");
    expect(args.indexOf("--dir", args.indexOf("--tmpfs"))).toBeGreaterThan(args.lastIndexOf("--tmpfs"));
    expect(args.slice(args.indexOf("/opt") - 3, args.indexOf("/opt"))).toEqual(["--perms", "0755", "--dir"]);
    // The agent's argv comes last, after the limits, as one element each.
    expect(args.slice(-3)).toEqual(["/opt/agents/bin/agent", "--flag", "a prompt"]);
    const limitsAt = args.indexOf("/usr/bin/prlimit");
    expect(args.slice(limitsAt, limitsAt + 7)).toEqual(prlimitArgs("/usr/bin/prlimit", limits));
    expect(new BubblewrapIsolation(config(), {}).agentPath()).toBe(WORKSPACE);
    expect(jail.file).toBe("/usr/bin/bwrap");
    expect(jail.cwd).toBe("/");
  });

  it("builds the agent's environment from nothing but the basics, the named credentials and the runner's", async () => {
    const jail = await new BubblewrapIsolation(config({ passEnv: ["AGENT_KEY", "NOT_SET"] }), {
      AGENT_KEY: "sk-value",
      SERVER_SECRET: "never",
    }).prepare({
      sandboxPath: sandbox(),
      argv: ["/bin/true"],
      env: { KNIFY_PROMPT: "hi", HOME: "/not-home" },
      files: [{ name: "spec.json", env: "KNIFY_JOB_SPEC", content: '{"a":1}' }],
    });
    jail.release();
    expect(jail.env).toEqual({
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: "/not-home",
      TMPDIR: "/tmp",
      LANG: "C.UTF-8",
      USER: "agent",
      AGENT_KEY: "sk-value",
      KNIFY_PROMPT: "hi",
      KNIFY_JOB_SPEC: "/run/knify/spec.json",
    });
    // Values never go on the command line, which any host user can read.
    expect(jail.args.join(" ")).not.toContain("sk-value");
    // The runner's files come read-only from fds 5, 6, … into /run/knify, made world-searchable.
    expect(valuesOf(jail.args, "--ro-bind-data", 2)).toEqual([
      ["3", "/etc/passwd"],
      ["4", "/etc/group"],
      ["5", "/run/knify/spec.json"],
    ]);
    expect(valuesOf(jail.args, "--perms", 3)).toEqual(
      expect.arrayContaining([
        ["0644", "--ro-bind-data", "3"],
        ["0644", "--ro-bind-data", "4"],
        ["0755", "--dir", "/run"],
        ["0755", "--dir", "/run/knify"],
        ["0444", "--ro-bind-data", "5"],
      ]),
    );
    expect(jail.fdData[2]).toBe('{"a":1}');
    expect(jail.fdData).toHaveLength(3);
  });

  it("makes no /run/knify for a turn without files", async () => {
    const jail = await new BubblewrapIsolation(config(), {}).prepare({
      sandboxPath: sandbox(),
      argv: ["/bin/true"],
      env: {},
      files: [],
    });
    jail.release();
    expect(jail.args).not.toContain("/run/knify");
    expect(jail.args).not.toContain("/run");
    expect(jail.fdData).toHaveLength(2);
  });

  it("as root, runs each turn as its own uid with no privileges, owning its sandbox, and frees the uid after", async () => {
    if (!asRoot) {
      // Not as root, bubblewrap makes a user namespace and the agent keeps the server's uid.
      const jail = await new BubblewrapIsolation(config(), {}).prepare({
        sandboxPath: sandbox(),
        argv: ["/bin/true"],
        env: {},
      });
      jail.release();
      expect(jail.args).not.toContain("/usr/bin/setpriv");
      expect(jail.fdData[0]).toContain(`agent:x:${process.getuid?.()}:`);
      return;
    }
    const isolation = new BubblewrapIsolation(config({ uidBase: 300_000 }), {});
    const first = sandbox();
    const a = await isolation.prepare({ sandboxPath: first, argv: ["/bin/true"], env: {} });
    const b = await isolation.prepare({ sandboxPath: sandbox(), argv: ["/bin/true"], env: {} });
    expect(valuesOf(a.args, "/usr/bin/setpriv", 8)).toEqual([
      [
        "--reuid=300000",
        "--regid=300000",
        "--clear-groups",
        "--no-new-privs",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
        "/usr/bin/prlimit",
      ],
    ]);
    expect(b.args).toContain("--reuid=300001");
    expect(statSync(first).uid).toBe(300_000);
    expect(statSync(first).gid).toBe(300_000);
    expect(a.fdData[0]).toBe(
      "root:x:0:0:root:/root:/usr/sbin/nologin\nagent:x:300000:300000:Knify agent:/workspace:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    );
    expect(a.fdData[1]).toBe("root:x:0:\nagent:x:300000:\nnogroup:x:65534:\n");
    a.release();
    const c = await isolation.prepare({ sandboxPath: sandbox(), argv: ["/bin/true"], env: {} });
    expect(c.args).toContain("--reuid=300000");
    b.release();
    c.release();
  });

  it("frees the uid when the sandbox cannot be handed over", async () => {
    if (!asRoot) return; // only root hands a sandbox over (chown) and has uids to free
    const isolation = new BubblewrapIsolation(config({ uidBase: 310_000 }), {});
    await expect(
      isolation.prepare({ sandboxPath: join(sandbox(), "missing"), argv: ["/bin/true"], env: {} }),
    ).rejects.toThrow();
    const next = await isolation.prepare({ sandboxPath: sandbox(), argv: ["/bin/true"], env: {} });
    expect(next.args).toContain("--reuid=310000");
    next.release();
  });

  it("builds a jail that runs: the system's own /bin and /usr, the runner's file and credential, a sticky /tmp", async () => {
    const path = sandbox();
    const script = [
      "id -u",
      "pwd",
      'echo "$HOME $AGENT_KEY"',
      "cat /run/knify/spec.json && echo",
      'cat "$KNIFY_NOTES" && echo',
      "stat -c '%a %n' /tmp /var/tmp /run/knify /run/knify/spec.json /etc/passwd",
      'for d in /bin /sbin /lib /lib64 /usr; do if [ -L $d ]; then echo "$d link $(readlink $d)"; elif [ -d $d ]; then echo "$d dir"; fi; done',
      "ls -A /etc | tr '\\n' ' ' && echo",
      "grep ^agent: /etc/passwd",
      "echo written > /workspace/out",
    ].join("; ");
    const jail = await new BubblewrapIsolation(config({ passEnv: ["AGENT_KEY"] }), {
      AGENT_KEY: "credential-1",
    }).prepare({
      sandboxPath: path,
      argv: ["/bin/sh", "-c", script],
      env: {},
      files: [
        { name: "spec.json", env: "KNIFY_JOB_SPEC", content: '{"job":1}' },
        { name: "notes.txt", env: "KNIFY_NOTES", content: "second file" },
      ],
    });
    const output = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
      const child = spawnJailed(jail);
      let out = "";
      let err = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk;
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        err += chunk;
      });
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, out, err }));
    });
    jail.release();
    expect(output.err).toBe("");
    expect(output.code).toBe(0);
    const lines = output.out.trim().split("\n");
    const uid = asRoot ? "300000" : String(process.getuid?.());
    const systemDirs = ["/bin", "/sbin", "/lib", "/lib64", "/usr"].flatMap((dir) => {
      try {
        const stat = lstatSync(dir);
        return stat.isSymbolicLink() ? [`${dir} link ${readlinkSync(dir)}`] : stat.isDirectory() ? [`${dir} dir`] : [];
      } catch {
        return [];
      }
    });
    expect(lines).toEqual([
      uid,
      WORKSPACE,
      `${WORKSPACE} credential-1`,
      '{"job":1}',
      "second file",
      "1777 /tmp",
      "1777 /var/tmp",
      "755 /run/knify",
      "444 /run/knify/spec.json",
      "644 /etc/passwd",
      ...systemDirs,
      etcInJail(),
      `agent:x:${uid}:${uid}:Knify agent:/workspace:/bin/sh`,
    ]);
    expect(readFileSync(join(path, "out"), "utf8")).toBe("written\n");
  });

  it("passes its own probe (a jailed id -u, without files) with either network setting", async () => {
    for (const network of ["none", "full"] as const) {
      await expect(new BubblewrapIsolation(config({ network }), {}).probe()).resolves.toBeUndefined();
    }
  });

  it("makes the parents of a read-only path, except the directories the jail already has", async () => {
    const paths = [
      "/etc/agent/conf",
      "/tmp/a/b",
      "/var/tmp/c/d",
      "/var/lib/e",
      "/usr/local/f",
      "/dev/g/h",
      "/proc/i/j",
    ];
    const jail = await new BubblewrapIsolation(config({ readOnlyPaths: [...paths, "/workspace/k/l"] }), {}).prepare({
      sandboxPath: sandbox(),
      argv: ["/bin/true"],
      env: {},
    });
    jail.release();
    const afterTmp = jail.args.slice(jail.args.lastIndexOf("--tmpfs"));
    expect(valuesOf(afterTmp, "--dir").flat()).toEqual([
      "/etc/agent",
      "/tmp/a",
      "/var/tmp/c",
      "/var/lib",
      "/usr/local",
      "/dev/g",
      "/proc/i",
      "/workspace/k",
    ]);
  });
});
