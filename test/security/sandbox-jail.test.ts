import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxDir } from "../../server/src/jobs/sandbox-paths.js";
import { call } from "../support/http.js";
import { jobProcesses } from "../support/processes.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { until } from "../support/until.js";

// Issue 16: a hostile agent (test/fixtures/agents/hostile-agent.sh, run by the command runner) tries to reach what
// an agent must never see. Every attack must fail inside the jail, the job must end cleanly, the server stay up.

const FIXTURE = fileURLToPath(new URL("../fixtures/agents/hostile-agent.sh", import.meta.url));
// The server process's own environment must not reach an agent: a regression to inheriting it would show this.
process.env.HOSTILE_SERVER_CANARY = "server-env-canary-7f3a";

interface Job {
  id: string;
  status: string;
  sandbox_id: string | null;
  turns: number;
  error?: { code: string; message: string };
}

/** The tools dir (mounted read-only into the jail) holds the agent script and a root-only file. */
function makeTools(): string {
  const tools = mkdtempSync(join(tmpdir(), "knify-hostile-tools-"));
  chmodSync(tools, 0o755);
  copyFileSync(FIXTURE, join(tools, "hostile-agent.sh"));
  writeFileSync(join(tools, "root-only.txt"), "root-only-canary-91c2\n", { mode: 0o600 });
  return tools;
}

function serverEnv(tools: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KNIFY_RATE_LIMIT_LIVE: "100000",
    KNIFY_RUNNER: "command",
    KNIFY_AGENT_COMMAND: `exec /bin/sh '${join(tools, "hostile-agent.sh")}' "$1"`,
    KNIFY_SANDBOX_READONLY_PATHS: tools,
    KNIFY_MAX_CONCURRENT_JOBS: "2",
    // Small limits keep the limit tests fast.
    KNIFY_SANDBOX_CPU_SECONDS: "1",
    KNIFY_SANDBOX_MEMORY_MB: "256",
    KNIFY_SANDBOX_MAX_PROCESSES: "40",
    KNIFY_SANDBOX_MAX_FILE_MB: "1",
    KNIFY_SANDBOX_TMP_MB: "4",
    // Uids of its own: the fork bomb saturates RLIMIT_NPROC of its uid, which must not be one that the jails of
    // servers in other test files (run in parallel, from the default 200000) use.
    KNIFY_SANDBOX_UID: "210000",
    KNIFY_SANDBOX_PASS_ENV: "FAKE_MODEL_API_KEY",
    FAKE_MODEL_API_KEY: "allowed-credential-5d1e",
    HOSTILE_CONFIG_CANARY: "config-env-canary-c4b0",
    ...extra,
  };
}

function agent(server: TestServer) {
  const api = (method: string, path: string, body?: unknown) =>
    call(server.url, method, path, { key: server.adminKey, ...(body === undefined ? {} : { body }) });
  const finished = (id: string, turns = 1) =>
    until(`${id} to finish`, async () => {
      const job = (await api("GET", `/jobs/${id}`)).body as Job;
      return job.turns === turns && (job.status === "completed" || job.status === "failed") ? job : undefined;
    });
  const lines = async (id: string) =>
    ((await api("GET", `/jobs/${id}/events?limit=100`)).body as { type: string; data: Record<string, unknown> }[])
      .filter((e) => e.type === "output")
      .map((e) => String(e.data.line));
  /** Runs one attack as a new job; returns the finished job and its output lines. */
  const attack = async (prompt: string) => {
    const created = await api("POST", "/jobs", { spec: { job_type: "cursor_task", prompt } });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const job = await finished(created.body.job_id);
    // The jail is gone with the turn: nothing of the job still runs on the host.
    await until("the jail to go", () => (jobProcesses(job.id).length === 0 ? true : undefined));
    return { job, out: await lines(job.id) };
  };
  const cont = async (id: string, prompt: string, turns: number) => {
    expect((await api("POST", `/jobs/${id}/continue`, { spec: { prompt } })).status).toBe(200);
    const job = await finished(id, turns);
    return { job, out: await lines(id) };
  };
  return { api, attack, cont };
}

describe("a jailed agent (network none)", () => {
  let server: TestServer;
  let tools: string;
  let hostile: ReturnType<typeof agent>;
  let secretKey: string;

  beforeAll(async () => {
    tools = makeTools();
    server = await startTestServer({ env: serverEnv(tools) });
    hostile = agent(server);
    secretKey = join(server.dataDir, "secret.key");
    // Something worth stealing must exist for the attacks to mean anything.
    expect(existsSync(secretKey)).toBe(true);
    expect(existsSync(join(server.dataDir, "knify.db"))).toBe(true);
  });
  afterAll(async () => {
    await server.stop();
    rmSync(tools, { recursive: true, force: true });
  });

  /** Every attack ends the same way: the job completed, the agent reports `blocked`, and the server still answers. */
  async function expectBlocked(prompt: string, name = prompt.split(" ")[0]) {
    const { job, out } = await hostile.attack(prompt);
    expect(job.status, job.error?.message).toBe("completed");
    expect(
      out.some((line) => line.startsWith(`blocked ${name}:`)),
      out.join("\n"),
    ).toBe(true);
    expect(out.some((line) => line.startsWith(`ok ${name}`))).toBe(false);
    expect((await hostile.api("GET", "/")).status).toBe(200);
    return out;
  }

  it("runs as an unprivileged uid in /workspace, with HOME there too", async () => {
    const { job, out } = await hostile.attack("whoami");
    expect(job.status).toBe("completed");
    const line = out.find((l) => l.startsWith("ok whoami:")) ?? "";
    const uid = Number(/uid=(\d+)/.exec(line)?.[1]);
    expect(uid).toBeGreaterThan(0);
    expect(line).toContain("home=/workspace pwd=/workspace");
  });

  it("runs concurrent turns as distinct uids, so one turn's process limit is its own", async () => {
    const start = async () => {
      const created = await hostile.api("POST", "/jobs", { spec: { job_type: "cursor_task", prompt: "hold" } });
      const id: string = created.body.job_id;
      const uid = await until(`${id} to print its uid`, async () => {
        const events = await hostile.api("GET", `/jobs/${id}/events?limit=100`);
        const line = (events.body as { data: { line?: string } }[])
          .map((e) => e.data.line ?? "")
          .find((l) => l.startsWith("ok hold: uid="));
        return line ? Number(line.slice("ok hold: uid=".length)) : undefined;
      });
      return { id, uid };
    };
    const [a, b] = [await start(), await start()];
    expect(a.uid).toBeGreaterThan(0);
    expect(b.uid).toBeGreaterThan(0);
    expect(a.uid).not.toBe(b.uid);
    for (const { id } of [a, b]) {
      const job = (await hostile.api("GET", `/jobs/${id}`)).body as Job;
      writeFileSync(join(sandboxDir(server.dataDir, job.sandbox_id ?? ""), "release"), "");
    }
    for (const { id } of [a, b]) {
      await until(`${id} to complete`, async () =>
        ((await hostile.api("GET", `/jobs/${id}`)).body as Job).status === "completed" ? true : undefined,
      );
    }
  });

  it("cannot read a root-only file, even where it is mounted", async () => {
    const out = await expectBlocked(`read ${join(tools, "root-only.txt")}`);
    expect(out.join("\n")).not.toContain("root-only-canary");
    // Control: the same dir's world-readable script is readable, so the path itself is right.
    const { out: control } = await hostile.attack(`read ${join(tools, "hostile-agent.sh")}`);
    expect(control.some((l) => l.startsWith("ok read: #!/bin/sh"))).toBe(true);
  });

  it("cannot read secret.key, the database or its WAL, by absolute or relative path", async () => {
    const secret = readFileSync(secretKey);
    for (const path of [
      secretKey,
      "../../secret.key",
      join(server.dataDir, "knify.db"),
      join(server.dataDir, "knify.db-wal"),
    ]) {
      const out = await expectBlocked(`read ${path}`, "read");
      expect(out.join("\n")).not.toContain(secret.toString("utf8").trim());
    }
    const { out } = await hostile.attack(`list ${server.dataDir}`);
    expect(out.some((l) => l.startsWith("blocked list:"))).toBe(true);
  });

  it("cannot list or read another job's sandbox", async () => {
    const { job: other } = await hostile.attack("edit private-notes.md");
    expect(other.status).toBe("completed");
    const otherDir = sandboxDir(server.dataDir, other.sandbox_id ?? "");
    expect(existsSync(join(otherDir, "private-notes.md"))).toBe(true);
    await expectBlocked(`list ${otherDir}`);
    await expectBlocked(`read ${join(otherDir, "private-notes.md")}`);
    await expectBlocked(`list ${join(server.dataDir, "sandboxes")}`);
    // From inside, ".." is the jail's own root: system dirs, no sandboxes.
    const { out } = await hostile.attack("list ..");
    const listing = out.find((l) => l.startsWith("ok list:")) ?? "";
    expect(listing).toContain("workspace");
    expect(listing).not.toMatch(/sbx_|sandboxes|knify\.db|secret\.key/);
  });

  it("cannot read /proc/1/environ nor see the server's environment; gets only the allowed credential", async () => {
    await expectBlocked("read /proc/1/environ");
    const { out: procs } = await hostile.attack("list /proc");
    // A fresh /proc of its own PID namespace: only the jail's few processes, not the host's.
    const pids = (procs.find((l) => l.startsWith("ok list:")) ?? "").split(" ").filter((p) => /^\d+$/.test(p));
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.length).toBeLessThan(10);
    expect(pids).not.toContain(String(process.pid));

    const { out } = await hostile.attack("env");
    const env = out.join("\n");
    expect(env).toContain("ok env: FAKE_MODEL_API_KEY=allowed-credential-5d1e");
    expect(env).toContain("ok env: KNIFY_SANDBOX_DIR=/workspace");
    for (const leak of ["server-env-canary", "config-env-canary", "KNIFY_DATA_DIR", "KNIFY_RUNNER", server.dataDir]) {
      expect(env).not.toContain(leak);
    }
  });

  it("cannot write outside its sandbox", async () => {
    const host = join(server.dataDir, "pwned");
    // /tmp inside is the jail's own: the write lands there, not in the host's data dir.
    await hostile.attack(`write ${host}`);
    expect(existsSync(host)).toBe(false);
    await expectBlocked("write /usr/local/pwned", "write");
    await expectBlocked("write /etc/pwned", "write");
    await expectBlocked(`write ${join(tools, "pwned")}`, "write");
    expect(existsSync("/usr/local/pwned") || existsSync("/etc/pwned") || existsSync(join(tools, "pwned"))).toBe(false);
  });

  it("cannot follow a symlink planted in its workspace out of the sandbox", async () => {
    const { job } = await hostile.attack("edit notes.md");
    const dir = sandboxDir(server.dataDir, job.sandbox_id ?? "");
    // What an archive (or an earlier turn) could leave behind: links to the server's secret, absolute and relative.
    symlinkSync(secretKey, join(dir, "absolute-link"));
    symlinkSync("../../secret.key", join(dir, "relative-link"));
    const secret = readFileSync(secretKey, "utf8").trim();
    let turns = job.turns;
    for (const link of ["absolute-link", "relative-link"]) {
      turns += 1;
      const { job: after, out } = await hostile.cont(job.id, `read ${link}`, turns);
      expect(after.status).toBe("completed");
      expect(out.join("\n")).not.toContain(secret);
      expect(out.at(-1)).toMatch(/^blocked read:/);
    }
    // Preparing the sandbox for the jail's uid re-owned the links themselves, never their target.
    expect(lstatSync(secretKey).uid).toBe(process.getuid?.());
    expect(readFileSync(secretKey, "utf8").trim()).toBe(secret);
  });

  it("cannot reach the server on 127.0.0.1 with KNIFY_SANDBOX_NETWORK=none", async () => {
    const port = new URL(server.url).port;
    await expectBlocked(`connect ${port}`);
  });

  it("a fork bomb ends the turn with sandbox_limit (processes), not the server", async () => {
    const { job } = await hostile.attack("forkbomb");
    expect(job).toMatchObject({
      status: "failed",
      error: {
        code: "sandbox_limit",
        message: "the agent exceeded its process limit (KNIFY_SANDBOX_MAX_PROCESSES=40)",
      },
    });
    expect((await hostile.api("GET", "/")).status).toBe(200);
    // The next turn forks normally: the bomb is gone with its jail.
    const { job: next } = await hostile.attack("whoami");
    expect(next.status).toBe("completed");
  });

  it("allocating past the memory limit fails the turn with sandbox_limit (memory)", async () => {
    const { job } = await hostile.attack("memory 512");
    expect(job).toMatchObject({
      status: "failed",
      error: { code: "sandbox_limit", message: "the agent exceeded its memory limit (KNIFY_SANDBOX_MEMORY_MB=256)" },
    });
    // Control: an allocation within the limit works.
    const { job: small, out } = await hostile.attack("memory 16");
    expect(small.status, small.error?.message).toBe("completed");
    expect(out).toContain(`ok memory: ${16 * 1024 * 1024}`);
  });

  it("running past the CPU limit fails the turn with sandbox_limit (CPU time)", async () => {
    const { job } = await hostile.attack("cpu");
    expect(job).toMatchObject({
      status: "failed",
      error: { code: "sandbox_limit", message: "the agent exceeded its CPU time limit (KNIFY_SANDBOX_CPU_SECONDS=1)" },
    });
  });

  it("writing a file past the size limit fails the turn with sandbox_limit (file size)", async () => {
    const { job } = await hostile.attack("bigfile 4");
    expect(job).toMatchObject({
      status: "failed",
      error: { code: "sandbox_limit", message: "the agent exceeded its file size limit (KNIFY_SANDBOX_MAX_FILE_MB=1)" },
    });
    const big = join(sandboxDir(server.dataDir, job.sandbox_id ?? ""), "big.bin");
    expect(lstatSync(big).size).toBeLessThanOrEqual(1024 * 1024);
  });

  it("cannot fill the host's memory through its /tmp", async () => {
    const out = await expectBlocked("filltmp 20");
    expect(out.at(-1)).toMatch(/^blocked filltmp: after [34] MB: .*No space left on device/);
  });

  it("edits files in its sandbox, and a continue in the same sandbox sees them", async () => {
    const { job, out } = await hostile.attack("edit notes.md");
    expect(job.status).toBe("completed");
    expect(out).toContain("ok edit: edited in turn 1|");
    const { job: second, out: all } = await hostile.cont(job.id, "edit notes.md", 2);
    expect(second).toMatchObject({ status: "completed", sandbox_id: job.sandbox_id });
    expect(all).toContain("ok edit: edited in turn 1|edited in turn 2|");
    // The host sees the agent's edits in the sandbox (what archive/changes read).
    const file = join(sandboxDir(server.dataDir, job.sandbox_id ?? ""), "notes.md");
    expect(readFileSync(file, "utf8")).toBe("edited in turn 1\nedited in turn 2\n");
  });
});

describe("a jailed agent with KNIFY_SANDBOX_NETWORK=full", () => {
  it("reaches 127.0.0.1 (the control for the network none test)", async () => {
    const tools = makeTools();
    const server = await startTestServer({ env: serverEnv(tools, { KNIFY_SANDBOX_NETWORK: "full" }) });
    try {
      const { job, out } = await agent(server).attack(`connect ${new URL(server.url).port}`);
      expect(job.status).toBe("completed");
      expect(out).toContain("ok connect: HTTP/1.1 200");
    } finally {
      await server.stop();
      rmSync(tools, { recursive: true, force: true });
    }
  });
});
