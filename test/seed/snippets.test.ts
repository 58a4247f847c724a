import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

// Every snippet of Knify's authentication page, run as written against a live server: only the base URL
// and the placeholder key are replaced (see test/fixtures/seed/README.md).
const exec = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const fixture = (name: string) => readFileSync(join(root, "test", "fixtures", "seed", name), "utf8");
const PLACEHOLDER = "knify_live_abc123def456...";

let server: TestServer;
let userKey: { id: string; apiKey: string };
beforeAll(async () => {
  server = await startTestServer();
  userKey = await server.key({ name: "Production API Key" });
});
afterAll(() => server.stop());

async function bash(script: string, env: Record<string, string>) {
  const { stdout } = await exec("bash", ["-c", script.replaceAll("https://api.knify.io", server.url)], {
    env: { ...process.env, ...env },
    cwd: root,
  });
  return stdout;
}

const withStatus = (script: string) => script.replace(/^curl /, 'curl -s -w "\\n%{http_code}" ');
const split = (out: string) => {
  const lines = out.trimEnd().split("\n");
  const status = Number(lines.pop());
  return { status, body: lines.join("\n") ? JSON.parse(lines.join("\n")) : null };
};

describe("the seed's curl snippets", () => {
  it("lists jobs with $KNIFY_API_KEY", async () => {
    const out = await bash(withStatus('curl https://api.knify.io/jobs \\\n-H "Authorization: Bearer $KNIFY_API_KEY"'), {
      KNIFY_API_KEY: userKey.apiKey,
    });
    const { status, body } = split(out);
    expect(status).toBe(200);
    expect(Array.isArray(body)).toBe(true);
  });

  it("verifies a key, shows a key, shows usage in the documented shape, and revokes", async () => {
    const target = await server.key({ name: "to revoke" });
    const env = { KNIFY_API_KEY: target.apiKey, ADMIN_API_KEY: server.adminKey };
    expect(
      split(
        await bash(
          withStatus('curl https://api.knify.io/keys/verify \\\n-H "Authorization: Bearer $KNIFY_API_KEY"'),
          env,
        ),
      ).status,
    ).toBe(200);

    const shown = split(
      await bash(
        withStatus(`curl https://api.knify.io/keys/${target.id} \\\n-H "Authorization: Bearer $ADMIN_API_KEY"`),
        env,
      ),
    );
    expect(shown.body.permissions).toContain("jobs:create");

    const usage = split(
      await bash(
        withStatus(`curl https://api.knify.io/keys/${target.id}/usage \\\n-H "Authorization: Bearer $ADMIN_API_KEY"`),
        env,
      ),
    );
    expect(Object.keys(usage.body).sort()).toEqual([
      "key_id",
      "last_used",
      "rate_limit",
      "requests_this_month",
      "requests_today",
    ]);
    expect(usage.body).toMatchObject({ key_id: target.id, requests_today: 1, requests_this_month: 1 });

    const revoked = await bash(
      withStatus(`curl -X DELETE https://api.knify.io/keys/${target.id} \\\n-H "Authorization: Bearer $ADMIN_API_KEY"`),
      env,
    );
    expect(split(revoked).status).toBe(200);
    expect(
      split(
        await bash(
          withStatus('curl https://api.knify.io/keys/verify \\\n-H "Authorization: Bearer $KNIFY_API_KEY"'),
          env,
        ),
      ).status,
    ).toBe(401);
  });
});

describe("the seed's Python snippet", () => {
  it("creates a job with requests.post", async () => {
    const file = join(server.dataDir, "snippet.py");
    const script = fixture("python_requests.py")
      .replace(PLACEHOLDER, userKey.apiKey)
      .replace("https://api.knify.io", server.url);
    writeFileSync(file, `${script}print(response.status_code)\nprint(response.text)\n`);
    const { stdout } = await exec("python3", [file]);
    const [status, body] = stdout.split("\n");
    expect(status).toBe("200");
    expect(JSON.parse(body ?? "")).toMatchObject({ job_id: expect.stringMatching(/^job_/), status: "pending" });
  });
});

describe("the seed's JavaScript snippet", () => {
  it("creates a job with fetch", async () => {
    const file = join(server.dataDir, "snippet.mjs");
    const script = fixture("javascript_fetch.mjs")
      .replace(PLACEHOLDER, userKey.apiKey)
      .replace("https://api.knify.io", server.url);
    writeFileSync(file, `${script}console.log(response.status);\nconsole.log(await response.text());\n`);
    const { stdout } = await exec(process.execPath, [file]);
    const [status, body] = stdout.split("\n");
    expect(status).toBe("200");
    expect(JSON.parse(body ?? "")).toMatchObject({ job_id: expect.stringMatching(/^job_/) });
  });
});

describe("python scripts/create_api_key.py", () => {
  const run = (args: string[]) =>
    exec("python3", ["scripts/create_api_key.py", ...args], {
      cwd: root,
      env: { ...process.env, KNIFY_DATA_DIR: server.dataDir },
    });

  it("prints the documented object, and the key works against the running server", async () => {
    const { stdout } = await run(["--name", "Production API Key", "--workspace", "ws_abc123"]);
    const created = JSON.parse(stdout);
    expect(created).toMatchObject({ name: "Production API Key", workspace_id: "ws_abc123" });
    expect(created.key_id).toMatch(/^key_/);
    expect(created.api_key).toMatch(/^knify_live_/);
    expect(created.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const verify = await fetch(`${server.url}/keys/verify`, {
      headers: { Authorization: `Bearer ${created.api_key}` },
    });
    expect(verify.status).toBe(200);
  });

  it("scopes a key to permissions: Team A Key can create and read jobs only", async () => {
    const { stdout } = await run([
      "--name",
      "Team A Key",
      "--workspace",
      "ws_team_a",
      "--permissions",
      "jobs:create,jobs:read",
    ]);
    const created = JSON.parse(stdout);
    expect(created.permissions).toEqual(["jobs:create", "jobs:read"]);
    const res = await fetch(`${server.url}/workspaces`, { headers: { Authorization: `Bearer ${created.api_key}` } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { missing_permission: string }).missing_permission).toBe("workspaces:read");
  });

  it("fails clearly on an unknown permission, a missing name, or a malformed workspace id", async () => {
    for (const [args, message] of [
      [["--name", "x", "--permissions", "jobs:delete"], /Unknown permission: jobs:delete/],
      [["--workspace", "ws_abc123"], /required: --name/],
      [["--name", "x", "--workspace", "abc123"], /--workspace must be a workspace id/],
    ] as const) {
      const failure = await run([...args]).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBeGreaterThan(0);
      expect(failure?.stderr).toMatch(message);
    }
  });
});
