import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/src/config.js";
import { createKey } from "../../server/src/keys/create-key.js";
import { startServer } from "../../server/src/server.js";
import { call } from "../support/http.js";
import { capturedLogger } from "../support/logs.js";

// Issue 16, fail closed: no command runner without a working jail, unless the operator names `none`.

const AGENTS = fileURLToPath(new URL("../fixtures/agents", import.meta.url));

function commandEnv(dataDir: string, extra: Record<string, string>): Record<string, string> {
  return {
    KNIFY_DATA_DIR: dataDir,
    KNIFY_PORT: "0",
    KNIFY_HOST: "127.0.0.1",
    KNIFY_RUNNER: "command",
    KNIFY_AGENT_COMMAND: `exec /bin/sh '${join(AGENTS, "hostile-agent.sh")}' "$1"`,
    KNIFY_SANDBOX_READONLY_PATHS: AGENTS,
    ...extra,
  };
}

async function withDataDir<T>(body: (dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), "knify-sandbox-settings-"));
  try {
    return await body(dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe("starting the command runner", () => {
  it("refuses to start when the jail does not work, and says what to install", async () => {
    await withDataDir(async (dataDir) => {
      const env = commandEnv(dataDir, { KNIFY_SANDBOX_BWRAP: join(dataDir, "no-such-bwrap") });
      const { logger } = capturedLogger();
      await expect(startServer(loadConfig(env), logger, { env })).rejects.toThrow(
        /bubblewrap jail for agent turns does not work on this host .*apt-get install bubblewrap.*KNIFY_SANDBOX_ISOLATION=none/,
      );
    });
  });

  it("with KNIFY_SANDBOX_ISOLATION=none, starts with a warning and runs the agent unjailed", async () => {
    await withDataDir(async (dataDir) => {
      const env = commandEnv(dataDir, { KNIFY_SANDBOX_ISOLATION: "none" });
      const { logger, lines } = capturedLogger();
      const server = await startServer(loadConfig(env), logger, { env });
      try {
        const warning = lines.find((l) => /UNJAILED/.test(String(l.msg)));
        expect(warning?.level).toBe(40);
        const { apiKey } = await createKey(server.store, loadConfig(env), Date.now(), { name: "t" });
        const created = await call(server.url, "POST", "/jobs", {
          key: apiKey,
          body: { spec: { job_type: "cursor_task", prompt: "whoami" } },
        });
        let out: string[] = [];
        for (let i = 0; i < 400 && !out.some((l) => l.startsWith("ok whoami")); i++) {
          await new Promise((resolve) => setTimeout(resolve, 25));
          const events = await call(server.url, "GET", `/jobs/${created.body.job_id}/events`, { key: apiKey });
          out = events.body
            .filter((e: { type: string }) => e.type === "output")
            .map((e: { data: { line: string } }) => e.data.line);
        }
        // Unjailed, the agent is the server's own user in the host's sandbox directory.
        expect(out.find((l) => l.startsWith("ok whoami"))).toContain(`uid=${process.getuid?.()} `);
        expect(out.find((l) => l.startsWith("ok whoami"))).toContain(`pwd=${join(dataDir, "sandboxes")}/sbx_`);
      } finally {
        await server.close(1000);
      }
    });
  });

  it("refuses invalid sandbox settings, naming the variable", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ KNIFY_SANDBOX_ISOLATION: "docker" }, /KNIFY_SANDBOX_ISOLATION must be "bubblewrap" or "none"/],
      [{ KNIFY_SANDBOX_NETWORK: "some" }, /KNIFY_SANDBOX_NETWORK must be "none" or "full"/],
      [{ KNIFY_SANDBOX_PASS_ENV: "OK_NAME,KNIFY_SECRET_KEY" }, /KNIFY_SANDBOX_PASS_ENV .*"KNIFY_SECRET_KEY"/],
      [{ KNIFY_SANDBOX_PASS_ENV: "BAD-NAME" }, /KNIFY_SANDBOX_PASS_ENV/],
      [{ KNIFY_SANDBOX_READONLY_PATHS: "relative/path" }, /KNIFY_SANDBOX_READONLY_PATHS takes absolute paths/],
      [{ KNIFY_SANDBOX_MEMORY_MB: "12" }, /KNIFY_SANDBOX_MEMORY_MB must be a whole number from 64/],
      [{ KNIFY_SANDBOX_CPU_SECONDS: "0" }, /KNIFY_SANDBOX_CPU_SECONDS/],
      [{ KNIFY_SANDBOX_MAX_PROCESSES: "lots" }, /KNIFY_SANDBOX_MAX_PROCESSES/],
    ];
    await withDataDir(async (dataDir) => {
      for (const [extra, message] of [
        ...cases,
        // The data dir (secret key, database, every sandbox) can never be mounted into a jail, nor a parent of it.
        [{ KNIFY_SANDBOX_READONLY_PATHS: dataDir }, /must not contain the data dir/] as [
          Record<string, string>,
          RegExp,
        ],
        [{ KNIFY_SANDBOX_READONLY_PATHS: `/opt,${tmpdir()}` }, /must not contain the data dir/] as [
          Record<string, string>,
          RegExp,
        ],
      ]) {
        const env = commandEnv(dataDir, extra);
        const { logger } = capturedLogger();
        const failure = await startServer(loadConfig(env), logger, { env }).then(
          () => new Error("started"),
          (error: unknown) => error,
        );
        expect(failure).toBeInstanceOf(ConfigError);
        expect((failure as Error).message).toMatch(message);
      }
    });
  });
});
