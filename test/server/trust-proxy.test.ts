import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KnifyClient } from "@knify/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config.js";
import { createKey } from "../../server/src/keys/create-key.js";
import { type RunningServer, startServer } from "../../server/src/server.js";
import { capturedLogger } from "../support/logs.js";

// KNIFY_TRUST_PROXY (issue 8, item 6): behind a TLS-terminating proxy `Link` must name the public origin,
// and logs the client's address; without the setting, the same headers from anyone change nothing.

interface Started {
  server: RunningServer;
  key: string;
  logs: Array<Record<string, unknown>>;
  dataDir: string;
}

async function start(trustProxy: boolean): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), "knify-proxy-"));
  const env = { KNIFY_DATA_DIR: dataDir, KNIFY_PORT: "0", ...(trustProxy ? { KNIFY_TRUST_PROXY: "1" } : {}) };
  const { logger, lines: logs } = capturedLogger("info");
  const config = loadConfig(env);
  const server = await startServer(config, logger, { env });
  const created = await createKey(server.store, config, Date.now(), {
    name: "proxy",
    permissions: ["jobs:create", "jobs:read"],
  });
  for (let i = 0; i < 3; i++) {
    await fetch(`${server.url}/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${created.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ spec: { job_type: "cursor_task", prompt: `job ${i}` } }),
    });
  }
  return { server, key: created.apiKey, logs, dataDir };
}

/** GET /jobs?limit=1 with the given headers (node:http, so that Host and Forwarded are sent as given). */
function listPage(s: Started, headers: Record<string, string>): Promise<{ link: string | undefined }> {
  const url = new URL(`${s.server.url}/jobs?limit=1`);
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${s.key}`, ...headers } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ link: res.headers.link as string | undefined }));
    });
    req.on("error", reject);
    req.end();
  });
}

const nextUrl = (link: string | undefined) => /^<([^>]+)>; rel="next"$/.exec(link ?? "")?.[1] ?? "";

let trusted: Started;
let untrusted: Started;
beforeAll(async () => {
  trusted = await start(true);
  untrusted = await start(false);
});
afterAll(async () => {
  for (const s of [trusted, untrusted]) {
    await s.server.close(1000);
    rmSync(s.dataDir, { recursive: true, force: true });
  }
});

describe("KNIFY_TRUST_PROXY=1", () => {
  it("falls back to a relative link when the proxy reports nothing, rather than trusting Host", async () => {
    const { link } = await listPage(trusted, { host: "evil.example" });
    expect(nextUrl(link)).toMatch(/^\/jobs\?/);
  });

  it("builds Link from X-Forwarded-Proto and X-Forwarded-Host", async () => {
    const { link } = await listPage(trusted, { "x-forwarded-proto": "https", "x-forwarded-host": "api.example.com" });
    const next = new URL(nextUrl(link));
    expect(next.origin).toBe("https://api.example.com");
    expect(next.pathname).toBe("/jobs");
    expect(next.searchParams.get("cursor")).toBeTruthy();
  });

  it("prefers RFC 7239 Forwarded (first element, quoted values) over X-Forwarded-*", async () => {
    const { link } = await listPage(trusted, {
      forwarded: 'for="[2001:db8::7]:4711";proto=https;host="public.example.org:8443", for=10.0.0.2;proto=http',
      "x-forwarded-proto": "http",
      "x-forwarded-host": "ignored.example.com",
    });
    expect(new URL(nextUrl(link)).origin).toBe("https://public.example.org:8443");
  });

  it("logs the client address the proxy reports", async () => {
    await listPage(trusted, { "x-forwarded-for": "203.0.113.9", "x-request-id": "req_proxy_xff" });
    await listPage(trusted, { forwarded: 'for="[2001:db8::7]:4711";proto=https', "x-request-id": "req_proxy_fwd" });
    const client = (id: string) => trusted.logs.find((l) => l.msg === "request" && l.request_id === id)?.client;
    expect(client("req_proxy_xff")).toBe("203.0.113.9");
    expect(client("req_proxy_fwd")).toBe("2001:db8::7");
  });
});

describe("without KNIFY_TRUST_PROXY", () => {
  it("ignores forwarding headers: Link names the server itself, logs the socket's peer", async () => {
    const { link } = await listPage(untrusted, {
      forwarded: "proto=https;host=evil.example",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "evil.example",
      "x-forwarded-for": "203.0.113.9",
      "x-request-id": "req_untrusted",
    });
    // Without a trusted proxy (and without KNIFY_PUBLIC_URL) the link is relative: no client-chosen origin.
    expect(nextUrl(link)).toMatch(/^\/jobs\?/);
    const line = untrusted.logs.find((l) => l.msg === "request" && l.request_id === "req_untrusted");
    expect(line?.client).toBe("127.0.0.1");
  });
});

/**
 * A reverse proxy on loopback that, like nginx's default `proxy_pass`, sends the backend its own Host and
 * says where the client came from in X-Forwarded-Host/-Proto.
 */
async function reverseProxy(backend: string): Promise<{ url: string; server: Server }> {
  const target = new URL(backend);
  const server = createServer((req, res) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: {
          ...req.headers,
          host: target.host,
          "x-forwarded-host": req.headers.host ?? "",
          "x-forwarded-proto": "http",
        },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("the SDK behind a reverse proxy", () => {
  it("pages through the proxy; only a trusted proxy's origin appears in Link", async () => {
    for (const [s, trustedProxy] of [
      [trusted, true],
      [untrusted, false],
    ] as const) {
      const proxy = await reverseProxy(s.server.url);
      try {
        const client = new KnifyClient(s.key, { baseURL: proxy.url, maxRetries: 0, logLevel: "off" });
        const ids: string[] = [];
        for await (const job of client.jobs.list({ limit: 1 })) ids.push(job.id);
        expect(new Set(ids).size).toBe(3); // every page, each through the proxy
        const first = await client.jobs.list({ limit: 1 }).withResponse();
        const link = nextUrl(first.response.headers.get("link") ?? undefined);
        expect(link.startsWith(`${proxy.url}/jobs?`), link).toBe(trustedProxy);
      } finally {
        proxy.server.closeAllConnections();
        await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
      }
    }
  });
});
