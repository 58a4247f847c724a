import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

// "Use Environment Variables" from Knify's authentication guide: its `.env` block and its Python `dotenv`
// snippet, verbatim (test/fixtures/seed/dotenv.env, python_dotenv.py), with only the placeholder key replaced
// by a real one, as a reader would (issue 8, item 8).
const exec = promisify(execFile);
const fixture = (name: string) => readFileSync(join(import.meta.dirname, "..", "fixtures", "seed", name), "utf8");

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe("the seed's .env and Python dotenv snippet", () => {
  it("loads KNIFY_API_KEY (and KNIFY_WORKSPACE_ID) from .env, and the key works against the server", async () => {
    const key = await server.key({ name: "dotenv", workspaceId: "ws_abc123" });
    const dir = mkdtempSync(join(tmpdir(), "knify-dotenv-"));
    writeFileSync(join(dir, ".env"), fixture("dotenv.env").replace("knify_live_...", key.apiKey));
    // The snippet as written, then one check that uses what it loaded (requests is the guide's other snippet).
    const check = [
      "import requests",
      `r = requests.get("${server.url}/keys/verify", headers={"Authorization": f"Bearer {API_KEY}"})`,
      "print(r.status_code)",
      "print(r.json()['workspace_id'] == os.getenv('KNIFY_WORKSPACE_ID'))",
    ].join("\n");
    writeFileSync(join(dir, "snippet.py"), `${fixture("python_dotenv.py")}${check}\n`);
    // load_dotenv() finds .env from the script's directory; the process environment has no KNIFY_* at all.
    const { stdout } = await exec("python3", ["snippet.py"], { cwd: dir, env: { PATH: process.env.PATH ?? "" } });
    expect(stdout.split("\n")).toEqual(["200", "True", ""]);
  });
});
