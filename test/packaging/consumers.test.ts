import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Consumers of the *built* package: a temp project whose node_modules/@knify/sdk is a symlink to sdk/, so
// every import goes through the package's `exports` map into dist/, as it does for users. `npm test` builds
// dist before vitest runs; vitest alone needs `npm run build` first.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SDK = join(ROOT, "sdk");
const TYPE_CHECK = fileURLToPath(new URL("./type-check.mjs", import.meta.url));

// GitHub's documented example (docs: "Validating webhook deliveries"), the same scheme as X-Knify-Signature.
const GITHUB_VECTOR = {
  secret: "It's a Secret to Everybody",
  body: "Hello, World!",
  signature: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
};

let project: string;

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, timeout = 30_000): Promise<Output> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

function link(name: string, target: string): void {
  const path = join(project, "node_modules", name);
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path, "dir");
}

function write(file: string, text: string): void {
  writeFileSync(join(project, file), text);
}

beforeAll(() => {
  if (!existsSync(join(SDK, "dist", "index.js"))) {
    throw new Error("sdk/dist is missing: run `npm run build` (npm test does) before these packaging checks.");
  }
  project = mkdtempSync(join(tmpdir(), "knify-consumer-"));
  link("@knify/sdk", SDK);
  // What a consumer installs itself: msw (for `./testing`) and Node's types. The SDK's own dependencies
  // resolve from the repo's node_modules, as Node and tsc follow the symlink to its real path.
  link("msw", join(ROOT, "node_modules", "msw"));
  link("@types/node", join(ROOT, "node_modules", "@types", "node"));
  write("package.json", JSON.stringify({ name: "consumer", private: true }));
});
afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** The body of a runtime consumer; `load(specifier)` is `import()` or `require()`. */
const runtimeChecks = (load: string) => `
const { secret, body, signature } = ${JSON.stringify(GITHUB_VECTOR)};
const globalKeys = () => [...Object.getOwnPropertyNames(globalThis), ...Object.getOwnPropertySymbols(globalThis).map(String)];
const before = globalKeys();
const fetchBefore = globalThis.fetch;
const sdk = await ${load}("@knify/sdk");
const webhooks = await ${load}("@knify/sdk/webhooks");
const addedGlobals = globalKeys().filter((key) => !before.includes(key));
const fetchPatched = globalThis.fetch !== fetchBefore;

const client = new sdk.KnifyClient("knify_test_x", { baseURL: "http://127.0.0.1:9/" });
let missingKey;
try { new sdk.KnifyClient({ apiKey: "" }); } catch (error) { missingKey = error instanceof sdk.KnifyError; }
// Thrown by Node's runtime (loaded lazily, a file of its own): still the one KnifyError class of \`.\`.
let runtimeError;
try { await client.workspaces.upload({ name: "x", path: "/nonexistent/knify-consumer-dir" }); }
catch (error) { runtimeError = { knify: error instanceof sdk.KnifyError, message: error.message.split(":")[0] }; }

const testing = await ${load}("@knify/sdk/testing");
const { setupServer } = await ${load}("msw/node");
const mock = testing.createKnifyMock({ baseURL: "https://mock.knify.test" });
const server = setupServer(...mock.handlers);
server.listen({ onUnhandledRequest: "error" });
const health = await new sdk.KnifyClient(mock.adminKey, { baseURL: "https://mock.knify.test" }).health();
let refused;
try {
  await new sdk.KnifyClient("knify_test_wrong", { baseURL: "https://mock.knify.test", maxRetries: 0 }).jobs.get("job_1");
} catch (error) {
  refused = { authError: error instanceof sdk.AuthenticationError, apiError: error instanceof sdk.APIError, status: error.status };
}
server.close();

console.log(JSON.stringify({
  addedGlobals,
  fetchPatched,
  baseURL: client.baseURL,
  missingKey,
  runtimeError,
  verified: webhooks.verify(body, signature, secret),
  verifiedTampered: webhooks.verify(body + " ", signature, secret),
  viaClient: client.webhooks.verify(body, signature, secret),
  sameErrorClass: sdk.WebhookVerificationError === webhooks.WebhookVerificationError,
  health: health.status,
  refused,
}));
`;

async function runConsumer(file: string): Promise<Record<string, unknown>> {
  const result = await run(process.execPath, [file], project);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

describe("runtime consumers", () => {
  it("an .mjs file imports `.`, `./webhooks` and `./testing` through the exports map", async () => {
    write("consumer.mjs", runtimeChecks("import"));
    const result = await runConsumer("consumer.mjs");
    expect(result).toEqual({
      addedGlobals: [],
      fetchPatched: false,
      baseURL: "http://127.0.0.1:9",
      missingKey: true,
      runtimeError: { knify: true, message: "Cannot read the workspace directory /nonexistent/knify-consumer-dir" },
      verified: true,
      verifiedTampered: false,
      viaClient: true,
      // Both entries share one chunk, so an error thrown by `./webhooks` is an instance of the class from `.`.
      sameErrorClass: true,
      health: "ok",
      refused: { authError: true, apiError: true, status: 401 },
    });
  });

  it("a .cjs file requires `.`, `./webhooks`, `./testing` and `./package.json`", async () => {
    write(
      "consumer.cjs",
      `(async () => {
        if (require("@knify/sdk/package.json").name !== "@knify/sdk") throw new Error("package.json export");
        ${runtimeChecks("require")}
      })().catch((error) => { console.error(error); process.exitCode = 1; });`,
    );
    const result = await runConsumer("consumer.cjs");
    expect(result).toMatchObject({
      addedGlobals: [],
      fetchPatched: false,
      baseURL: "http://127.0.0.1:9",
      missingKey: true,
      runtimeError: { knify: true, message: "Cannot read the workspace directory /nonexistent/knify-consumer-dir" },
      verified: true,
      verifiedTampered: false,
      viaClient: true,
      // tsup's CJS splitting gives both entries one shared chunk, so the class is the same one.
      sameErrorClass: true,
      health: "ok",
      refused: { authError: true, apiError: true, status: 401 },
    });
  });
});

// Type checks: `@ts-expect-error` lines fail the check if the types were `any` or missing.
const typeChecks = (suffix: string) => `
import { APIError, type Job, type JobSpec, KnifyClient } from "@knify/sdk";
import { createKnifyMock, type KnifyMock } from "@knify/sdk/testing";
import { unwrap, verify, type WebhookEvent, WebhookVerificationError } from "@knify/sdk/webhooks";

const client = new KnifyClient("knify_test_x", { baseURL: "http://127.0.0.1:8080", maxRetries: 0 });
export async function statusOf(id: string): Promise<Job["status"]> {
  const job = await client.jobs.get(id);
  return job.status;
}
export const spec: JobSpec = { job_type: "cursor_task", prompt: "Hello" };
// @ts-expect-error job_type is required
export const noType: JobSpec = { prompt: "Hello" };
// @ts-expect-error a job has no such field
export const wrong = (job: Job) => job.no_such_field;
export const ok: boolean = verify("body", "sha256=00", "secret");
export function completedJobId(raw: string, headers: Record<string, string>): string | undefined {
  const event: WebhookEvent = unwrap(raw, headers, "whsec_c2VjcmV0");
  return event.type === "job.completed" ? event.data.id : undefined;
}
export const isApiError = (error: unknown): boolean => error instanceof APIError || error instanceof WebhookVerificationError;
export const mock: KnifyMock = createKnifyMock();
export const marker${suffix} = true;
`;

const strict = { strict: true, skipLibCheck: false, noEmit: true, target: "ES2022" };

describe("TypeScript consumers (strict; the SDK's declarations checked as with skipLibCheck: false)", () => {
  // One child process checks both projects (see type-check.mjs for what is checked and why it is fast).
  // The budget holds on a 2-core machine busy with other work: measured 27–31 s at a load average of 12–16
  // and 53–68 s at 18–22 (two `yes` hogs on top), where the two `tsc` runs before took 82–94 s and 188–215 s.
  const budget = 120_000;
  it(
    "type-check under module NodeNext (.mts, .cts), moduleResolution bundler (.ts) and node10 (.ts, no exports map)",
    async () => {
      write("esm.mts", typeChecks("Mts"));
      write("cjs.cts", typeChecks("Cts"));
      write("app.ts", typeChecks("Ts"));
      write("legacy.ts", typeChecks("Legacy"));
      // msw's own declarations (reached through `./testing`) need the DOM lib, so a consumer has it anyway.
      // The bundler project leaves out @types/node: the SDK's declarations must not need Node's types.
      const nodeNext = { ...strict, module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2023", "DOM"] };
      const bundler = { ...strict, module: "ESNext", moduleResolution: "bundler", lib: ["ES2023", "DOM"], types: [] };
      // node10 (TypeScript's old `node` resolution, still the default of many apps) ignores `exports`: the
      // subpaths resolve through the package's `typesVersions` (issue 14, item 1).
      const node10 = {
        ...strict,
        module: "CommonJS",
        moduleResolution: "node10",
        lib: ["ES2023", "DOM"],
        types: ["node"],
      };
      const projects = [
        { compilerOptions: { ...nodeNext, types: ["node"] }, files: ["esm.mts", "cjs.cts"] },
        { compilerOptions: bundler, files: ["app.ts"] },
        { compilerOptions: node10, files: ["legacy.ts"] },
      ];
      const result = await run(
        process.execPath,
        [TYPE_CHECK, realpathSync(project), join(SDK, "dist"), JSON.stringify(projects)],
        project,
        budget,
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const [node, bundled, legacy] = JSON.parse(result.stdout) as {
        errors: string[];
        files: string[];
        checked: string[];
      }[];
      if (!node || !bundled || !legacy) throw new Error(`type-check.mjs printed ${result.stdout}`);
      expect([...node.errors, ...bundled.errors, ...legacy.errors]).toEqual([]);

      // The declarations came from dist/ through the exports map: `import` conditions for .mts and bundler,
      // `require` conditions (.d.cts) for .cts; never from the sources. Each of them was checked.
      const dist = (file: string) => join(SDK, "dist", file);
      for (const entry of ["index", "webhooks", "testing"]) {
        expect(node.checked).toEqual(expect.arrayContaining([dist(`${entry}.d.ts`), dist(`${entry}.d.cts`)]));
        expect(bundled.checked).toContain(dist(`${entry}.d.ts`));
        expect(legacy.checked).toContain(dist(`${entry}.d.ts`));
      }
      const own = (file: string) => join(realpathSync(project), file);
      expect(node.checked).toEqual(expect.arrayContaining([own("esm.mts"), own("cjs.cts")]));
      expect(bundled.checked).toContain(own("app.ts"));
      expect(legacy.checked).toContain(own("legacy.ts"));
      expect([...node.files, ...bundled.files, ...legacy.files].filter((file) => file.includes("/sdk/src/"))).toEqual(
        [],
      );
    },
    budget,
  );
});

describe("documentation snippets", () => {
  /** The ```ts blocks of a Markdown file. */
  const tsBlocks = (file: string) =>
    [...readFileSync(join(ROOT, file), "utf8").matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
  /** The `@example` of one function's doc comment in a source file, without the comment's ` * `. */
  const example = (file: string, before: string) => {
    const text = readFileSync(join(ROOT, file), "utf8");
    const comment = text.slice(text.lastIndexOf("/**", text.indexOf(before)), text.indexOf(before));
    return comment
      .slice(comment.indexOf("@example") + "@example".length, comment.indexOf("*/"))
      .split("\n")
      .map((line) => line.replace(/^\s*\* ?/, ""))
      .join("\n");
  };

  const budget = 120_000;
  it(
    "every ts snippet of README.md and sdk/README.md, and sign()'s example, type-checks under strict",
    async () => {
      const snippets = [
        ...tsBlocks("README.md").map((code) => ({ from: "README.md", code })),
        ...tsBlocks("sdk/README.md").map((code) => ({ from: "sdk/README.md", code })),
        {
          from: "sign()'s @example",
          code: `import { generateSecret, sign } from "@knify/sdk/webhooks";\n${example("sdk/src/webhooks/sign.ts", "export function sign(")}`,
        },
      ];
      // Both READMEs' usage, webhook and testing snippets, and the one example: a lost block fails here.
      expect(snippets.length).toBeGreaterThanOrEqual(6);
      const files = snippets.map((snippet, index) => {
        // Each snippet is its own ES module (top-level await, as the READMEs use it).
        write(`snippet-${index}.mts`, `${snippet.code}\nexport {};\n`);
        return `snippet-${index}.mts`;
      });
      const compilerOptions = { ...strict, module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2023", "DOM"] };
      const result = await run(
        process.execPath,
        [TYPE_CHECK, realpathSync(project), join(SDK, "dist"), JSON.stringify([{ compilerOptions, files }])],
        project,
        budget,
      );
      expect(result.code, result.stderr).toBe(0);
      const [checked] = JSON.parse(result.stdout) as { errors: string[] }[];
      const named = (checked?.errors ?? []).map((error) => {
        const index = Number(/snippet-(\d+)\.mts/.exec(error)?.[1]);
        return `${snippets[index]?.from ?? "?"}: ${error}`;
      });
      expect(named).toEqual([]);
    },
    budget,
  );
});

describe("./webhooks", () => {
  /** A dist file's text plus every file it imports or requires, transitively. */
  function withImports(file: string, seen = new Set<string>()): string {
    if (seen.has(file)) return "";
    seen.add(file);
    const text = readFileSync(file, "utf8");
    const relative = [...text.matchAll(/(?:from|import|require\()\s*["'](\.{1,2}\/[^"']+)["']/g)].map(
      (m) => m[1] as string,
    );
    return [text, ...relative.map((spec) => withImports(join(dirname(file), spec), seen))].join("\n");
  }

  it.each(["webhooks.js", "webhooks.cjs"])("dist/%s and what it imports hold no HTTP client code", (file) => {
    const code = withImports(join(SDK, "dist", file));
    expect(code).toContain("function verify(");
    expect(code).not.toMatch(/\bfetch\s*\(/);
    expect(code).not.toMatch(/openapi-fetch|XMLHttpRequest|node:https?|require\(["']https?["']\)|undici/);
  });
});

describe("npm pack --dry-run", () => {
  it("ships dist/ (every file package.json names), package.json, README and LICENSE, and nothing else", async () => {
    const packed = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], SDK);
    expect(packed.code).toBe(0);
    const [manifest] = JSON.parse(packed.stdout) as [{ files: { path: string }[] }];
    const files = manifest.files.map((file) => file.path);

    expect(files.filter((path) => !/^dist\/[^/]+$/.test(path)).sort()).toEqual([
      "LICENSE",
      "README.md",
      "package.json",
    ]);
    expect(files.filter((path) => /(^|\/)(src|test|tests|__tests__)\/|\.test\.|\.spec\./.test(path))).toEqual([]);

    const pkg = JSON.parse(readFileSync(join(SDK, "package.json"), "utf8")) as Record<string, unknown>;
    const targets = new Set<string>();
    const collect = (value: unknown): void => {
      if (typeof value === "string") targets.add(value.replace(/^\.\//, ""));
      else if (value && typeof value === "object") Object.values(value).forEach(collect);
    };
    collect(pkg.exports);
    collect(pkg.imports); // the per-runtime modules behind `#runtime`
    collect(pkg.typesVersions); // the subpaths' declarations under moduleResolution node10
    collect([pkg.main, pkg.module, pkg.types]);
    expect(targets.size).toBeGreaterThan(10);
    expect([...targets].filter((target) => !files.includes(target))).toEqual([]);

    // `./testing`'s source maps are most of the package's weight and only help debug the mock: not shipped.
    expect(files.filter((path) => /^dist\/testing\b.*\.map$/.test(path))).toEqual([]);
    expect(files).toContain("dist/index.js.map");

    // Source maps point at the SDK's sources (and bundled dependencies), never at tests.
    for (const map of files.filter((path) => path.endsWith(".map"))) {
      const { sources } = JSON.parse(readFileSync(join(SDK, map), "utf8")) as { sources: string[] };
      expect(
        sources.filter((source) => /(^|\/)test\/|\.test\./.test(source)),
        map,
      ).toEqual([]);
    }
  });
});
