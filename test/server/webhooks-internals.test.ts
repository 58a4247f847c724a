import { createCipheriv, createDecipheriv } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign, unwrap, verify } from "@knify/sdk/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/src/config.js";
import { createLogger } from "../../server/src/logger.js";
import { startServer } from "../../server/src/server.js";
import { DEFAULT_RETRY_SCHEDULE_MS, loadWebhookSettings } from "../../server/src/webhooks/config.js";
import { createDeliverer } from "../../server/src/webhooks/deliverer.js";
import { fetchDeliverer } from "../../server/src/webhooks/fetch-deliverer.js";
import { nextAttemptAt } from "../../server/src/webhooks/schedule.js";
import { createSecretBox } from "../../server/src/webhooks/seal.js";
import { loadSecretKey } from "../../server/src/webhooks/secret-box.js";
import { generateWebhookSecret, signWebhook } from "../../server/src/webhooks/sign.js";
import { blockedReason, checkWebhookUrl, type ResolveAll } from "../../server/src/webhooks/ssrf.js";

describe("signWebhook", () => {
  it("produces exactly the headers the SDK's sign() computes, which verify() and unwrap() accept", () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const body =
      '{"id":"evt_1","type":"webhook.test","created_at":"2026-11-27T12:00:00Z","data":{"message":"héllo ✓"}}';
    const at = new Date("2026-11-27T12:00:00Z");
    const ours = signWebhook(Buffer.from(body), secret, "evt_1", at.getTime() / 1000);
    const sdk = sign({ payload: body, secret, id: "evt_1", timestamp: at });
    expect(ours).toEqual({
      "x-knify-signature": sdk["X-Knify-Signature"],
      "webhook-id": sdk["webhook-id"],
      "webhook-timestamp": sdk["webhook-timestamp"],
      "webhook-signature": sdk["webhook-signature"],
    });
    expect(verify(body, ours["x-knify-signature"], secret)).toBe(true);
    expect(unwrap(body, { ...ours }, secret, { now: at }).id).toBe("evt_1");
    expect(verify(body, ours["x-knify-signature"], generateWebhookSecret())).toBe(false);
  });
});

describe("retry schedule", () => {
  it("defaults to 5 s, 30 s, 2 min, 10 min, 1 h, 6 h", () => {
    expect(loadWebhookSettings({}).retryScheduleMs).toEqual(DEFAULT_RETRY_SCHEDULE_MS);
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual([5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000]);
  });

  it("spreads each delay by ±20% and gives up after the last one", () => {
    expect(nextAttemptAt(1, 1000, [5000, 30000], 0.2, () => 0)).toBe(1000 + 4000);
    expect(nextAttemptAt(1, 1000, [5000, 30000], 0.2, () => 1)).toBe(1000 + 6000);
    expect(nextAttemptAt(2, 1000, [5000, 30000], 0.2, () => 0.5)).toBe(1000 + 30000);
    expect(nextAttemptAt(3, 1000, [5000, 30000], 0.2, () => 0.5)).toBeNull();
  });
});

describe("loadWebhookSettings", () => {
  it.each([
    ["KNIFY_WEBHOOK_RETRY_SCHEDULE_MS", "5s,30s"],
    ["KNIFY_WEBHOOK_RETRY_SCHEDULE_MS", "100,,200"],
    ["KNIFY_WEBHOOK_CONNECT_TIMEOUT_MS", "-1"],
    ["KNIFY_WEBHOOK_ALLOW_PRIVATE", "yes"],
    ["KNIFY_WEBHOOK_CONCURRENCY", "0"],
  ])("refuses %s=%s with a message naming it", (name, value) => {
    expect(() => loadWebhookSettings({ [name]: value })).toThrow(ConfigError);
    expect(() => loadWebhookSettings({ [name]: value })).toThrow(name);
  });

  it("makes the server fail at start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "knify-webhooks-config-"));
    const env = {
      KNIFY_DATA_DIR: dir,
      KNIFY_PORT: "0",
      KNIFY_DATABASE: ":memory:",
      KNIFY_WEBHOOK_RETRY_SCHEDULE_MS: "soon",
    };
    await expect(startServer(loadConfig(env), createLogger("silent"), { env })).rejects.toThrow(
      "KNIFY_WEBHOOK_RETRY_SCHEDULE_MS",
    );
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("secret box", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "knify-webhooks-box-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("generates a 0600 key file once and reuses it", () => {
    const key = loadSecretKey({}, dir);
    expect(statSync(join(dir, "secret.key")).mode & 0o777).toBe(0o600);
    expect(loadSecretKey({}, dir).equals(key)).toBe(true);
    expect(readFileSync(join(dir, "secret.key"), "utf8").trim()).toBe(key.toString("base64"));
  });

  it("round-trips a secret bound to its endpoint, and refuses another binding, key or tampering", () => {
    const box = createSecretBox(loadSecretKey({}, dir));
    const secret = generateWebhookSecret();
    const sealed = box.seal(secret, "we_1");
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.open(sealed, "we_1")).toBe(secret);
    expect(() => box.open(sealed, "we_2")).toThrow();
    expect(() => createSecretBox(Buffer.alloc(32, 7)).open(sealed, "we_1")).toThrow();
    const parts = sealed.split(":");
    const data = Buffer.from(parts[3] ?? "", "base64");
    data[0] = (data[0] ?? 0) ^ 1;
    expect(() => box.open([parts[0], parts[1], parts[2], data.toString("base64")].join(":"), "we_1")).toThrow();
  });

  it("opens what node:crypto's AES-256-GCM sealed (secrets stored before the box became runtime-neutral)", () => {
    const key = Buffer.alloc(32, 3);
    const iv = Buffer.alloc(12, 5);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from("we_old", "utf8"));
    const data = Buffer.concat([cipher.update("whsec_stored-before", "utf8"), cipher.final()]);
    const sealed = ["v1", iv, cipher.getAuthTag(), data].map((p) => (typeof p === "string" ? p : p.toString("base64")));
    expect(createSecretBox(key).open(sealed.join(":"), "we_old")).toBe("whsec_stored-before");
    // And the other way round: what the box seals, node:crypto opens.
    const [, ivB, tagB, dataB] = createSecretBox(key).seal("whsec_new", "we_new").split(":");
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(ivB ?? "", "base64"));
    decipher.setAAD(Buffer.from("we_new", "utf8"));
    decipher.setAuthTag(Buffer.from(tagB ?? "", "base64"));
    expect(Buffer.concat([decipher.update(Buffer.from(dataB ?? "", "base64")), decipher.final()]).toString()).toBe(
      "whsec_new",
    );
  });

  it("takes KNIFY_SECRET_KEY as base64 or hex, and refuses a short one", () => {
    const key = Buffer.alloc(32, 9);
    expect(loadSecretKey({ KNIFY_SECRET_KEY: key.toString("base64") }, dir).equals(key)).toBe(true);
    expect(loadSecretKey({ KNIFY_SECRET_KEY: key.toString("hex") }, dir).equals(key)).toBe(true);
    expect(() => loadSecretKey({ KNIFY_SECRET_KEY: "c2hvcnQ=" }, dir)).toThrow("KNIFY_SECRET_KEY");
  });
});

describe("SSRF checks", () => {
  it.each([
    ["127.0.0.1", "a loopback address"],
    ["::1", "a loopback address"],
    ["10.0.0.1", "a private address"],
    ["172.31.255.255", "a private address"],
    ["192.168.1.1", "a private address"],
    ["fd00::1", "a private address"],
    ["169.254.169.254", "a link-local address"],
    ["fe80::1", "a link-local address"],
    ["0.0.0.0", "an unspecified address"],
    ["::", "an unspecified address"],
    ["100.64.0.1", "a carrier-grade NAT address (RFC 6598)"],
    ["224.0.0.1", "a multicast address"],
    ["ff02::1", "a multicast address"],
    ["::ffff:10.0.0.1", "a private address"],
  ])("blocks %s as %s", (address, reason) => {
    expect(blockedReason(address)).toBe(reason);
  });

  // #15: only global unicast passes, and an IPv4 address carried inside an IPv6 one is judged as that IPv4.
  it.each([
    ["192.0.0.8", "a reserved, documentation or benchmarking address"],
    ["192.0.2.1", "a reserved, documentation or benchmarking address"],
    ["198.18.0.1", "a reserved, documentation or benchmarking address"],
    ["198.19.255.254", "a reserved, documentation or benchmarking address"],
    ["198.51.100.7", "a reserved, documentation or benchmarking address"],
    ["203.0.113.9", "a reserved, documentation or benchmarking address"],
    ["240.0.0.1", "a reserved, documentation or benchmarking address"],
    ["255.255.255.255", "a broadcast address"],
    ["64:ff9b::7f00:1", "a loopback address (127.0.0.1, inside a NAT64 address)"],
    ["64:ff9b::a9fe:a9fe", "a link-local address (169.254.169.254, inside a NAT64 address)"],
    ["2002:7f00:1::", "a loopback address (127.0.0.1, inside a 6to4 address)"],
    ["2002:c0a8:101::1", "a private address (192.168.1.1, inside a 6to4 address)"],
    ["::7f00:1", "a loopback address (127.0.0.1, inside an IPv4-compatible address)"],
    ["::a00:1", "a private address (10.0.0.1, inside an IPv4-compatible address)"],
    ["::ffff:0:7f00:1", "a loopback address (127.0.0.1, inside an IPv4-translated address)"],
    ["64:ff9b:1::1", "not a global unicast address (rfc6052)"],
    ["2001:db8::1", "a reserved, documentation or benchmarking address"],
    ["2001::1", "not a global unicast address (teredo)"],
    ["100::1", "not a global unicast address (discard)"],
    ["4000::1", "not a global unicast address (unassigned)"],
    ["fec0::1", "a link-local address"],
  ])("blocks %s as %s", (address, reason) => {
    expect(blockedReason(address)).toBe(reason);
  });

  it("blocks every part of 127.0.0.0/8, as IPv4 and in each IPv6 form that carries it", () => {
    const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
    let checked = 0;
    // One address in each /16, with the low octets varying, plus both ends of the range.
    const table = Array.from({ length: 256 }, (_, b) => [127, b, (b * 7) % 256, (b * 13 + 1) % 256]);
    table.push([127, 0, 0, 0], [127, 255, 255, 255]);
    for (const [a = 0, b = 0, c = 0, d = 0] of table) {
      const v4 = `${a}.${b}.${c}.${d}`;
      for (const form of [
        v4,
        `::ffff:${v4}`,
        `::ffff:${hex(a, b)}:${hex(c, d)}`,
        `64:ff9b::${hex(a, b)}:${hex(c, d)}`,
        `2002:${hex(a, b)}:${hex(c, d)}::1`,
        `::${hex(a, b)}:${hex(c, d)}`,
      ]) {
        expect(blockedReason(form), form).toMatch(/^a loopback address/);
        checked++;
      }
    }
    expect(checked).toBe(258 * 6);
  });

  it.each([
    "93.184.216.34",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700::1111",
    "64:ff9b::5db8:d822",
    "2002:5db8:d822::1",
    "::ffff:93.184.216.34",
  ])("allows the public address %s", (address) => {
    expect(blockedReason(address)).toBeNull();
  });

  const dns: Record<string, string[]> = {
    "hooks.example.com": ["93.184.216.34"],
    "mixed.example.com": ["93.184.216.34", "10.0.0.5"],
    "internal.example.com": ["192.168.10.10"],
  };
  const resolveAll: ResolveAll = async (host) => {
    const found = dns[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return found;
  };

  it("checks what a host name resolves to, refusing when any address is blocked", async () => {
    expect(await checkWebhookUrl("https://hooks.example.com/knify", { allowPrivate: false, resolveAll })).toBeNull();
    expect(await checkWebhookUrl("https://mixed.example.com/", { allowPrivate: false, resolveAll })).toContain(
      "resolves to 10.0.0.5, a private address",
    );
    expect(await checkWebhookUrl("https://internal.example.com/", { allowPrivate: false, resolveAll })).toContain(
      "KNIFY_WEBHOOK_ALLOW_PRIVATE=1",
    );
    expect(await checkWebhookUrl("https://nowhere.example.com/", { allowPrivate: false, resolveAll })).toContain(
      "ENOTFOUND",
    );
  });

  it("skips address checks (and DNS) when private targets are allowed, but still refuses bad schemes", async () => {
    const noDns: ResolveAll = async () => {
      throw new Error("must not resolve");
    };
    expect(await checkWebhookUrl("http://internal.example.com/", { allowPrivate: true, resolveAll: noDns })).toBeNull();
    expect(await checkWebhookUrl("http://127.0.0.1:3000/", { allowPrivate: true, resolveAll: noDns })).toBeNull();
    expect(await checkWebhookUrl("file:///etc/passwd", { allowPrivate: true, resolveAll: noDns })).toContain(
      "not supported",
    );
  });
});

describe("createDeliverer", () => {
  let receiver: Server;
  let port: number;
  let sockets = 0;
  const requests: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      req.on("end", () => {
        requests.push({ path: req.url ?? "/", headers: req.headers, body });
        if (req.url === "/slow") return; // never answers
        if (req.url === "/redirect") {
          res.writeHead(307, { location: "/elsewhere" }).end();
          return;
        }
        res.end("a body that must be consumed");
      });
    });
    receiver.on("connection", () => {
      sockets += 1;
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    port = (receiver.address() as AddressInfo).port;
  });

  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  const timeouts = { connectTimeoutMs: 1000, headersTimeoutMs: 200, bodyTimeoutMs: 200 };
  const request = (url: string, signal?: AbortSignal) => ({
    url,
    body: Buffer.from('{"ok":true}'),
    headers: { "content-type": "application/json" },
    ...(signal ? { signal } : {}),
  });

  it("refuses at connect time a host that now resolves to loopback (DNS rebinding), sending nothing", async () => {
    const before = requests.length;
    const deliverer = createDeliverer(
      { allowPrivate: false, ...timeouts },
      { resolveAll: async (host) => (host === "rebound.example.com" ? ["127.0.0.1"] : []) },
    );
    const result = await deliverer.send(request(`http://rebound.example.com:${port}/rebound`));
    expect(result.statusCode).toBeNull();
    expect(result.error).toContain("resolves to 127.0.0.1, a loopback address");
    const literal = await deliverer.send(request(`http://127.0.0.1:${port}/literal`));
    expect(literal.error).toContain("loopback");
    expect(requests.length).toBe(before);
    await deliverer.close();
  });

  it("posts the body on a pooled connection when private targets are allowed", async () => {
    const deliverer = createDeliverer({ allowPrivate: true, ...timeouts });
    const before = sockets;
    for (let i = 0; i < 5; i++) {
      const result = await deliverer.send(request(`http://127.0.0.1:${port}/ok`));
      expect(result).toMatchObject({ statusCode: 200, error: null, aborted: false });
    }
    // Keep-alive: undici alternates between at most two pooled sockets for sequential requests.
    expect(sockets - before).toBeLessThanOrEqual(2);
    expect(requests.at(-1)).toMatchObject({ path: "/ok", body: '{"ok":true}' });
    expect(requests.at(-1)?.headers["content-type"]).toBe("application/json");
    await deliverer.close();
  });

  it("does not follow a redirect", async () => {
    const deliverer = createDeliverer({ allowPrivate: true, ...timeouts });
    const result = await deliverer.send(request(`http://127.0.0.1:${port}/redirect`));
    expect(result.statusCode).toBe(307);
    expect(result.error).toContain("redirect to /elsewhere not followed");
    expect(requests.some((r) => r.path === "/elsewhere")).toBe(false);
    await deliverer.close();
  });

  it("fetchDeliverer (runtime-neutral): posts, follows no redirect, refuses blocked literals, keeps its deadline", async () => {
    const open = fetchDeliverer({ allowPrivate: true, ...timeouts });
    expect(await open.send(request(`http://127.0.0.1:${port}/fetch-ok`))).toMatchObject({
      statusCode: 200,
      error: null,
      aborted: false,
    });
    expect(requests.at(-1)).toMatchObject({ path: "/fetch-ok", body: '{"ok":true}' });
    const redirected = await open.send(request(`http://127.0.0.1:${port}/redirect`));
    expect(redirected).toMatchObject({
      statusCode: 307,
      error: "redirect to /elsewhere not followed: register the final URL",
    });
    expect(requests.some((r) => r.path === "/elsewhere")).toBe(false);
    const timedOut = await open.send(request(`http://127.0.0.1:${port}/slow`));
    expect(timedOut).toMatchObject({ statusCode: null, error: "no answer within 1400 ms", aborted: false });
    const controller = new AbortController();
    const pending = open.send(request(`http://127.0.0.1:${port}/slow`, controller.signal));
    setImmediate(() => controller.abort());
    expect(await pending).toMatchObject({ statusCode: null, aborted: true });

    const before = requests.length;
    const guarded = await fetchDeliverer({ allowPrivate: false, ...timeouts }).send(
      request(`http://127.0.0.1:${port}/literal`),
    );
    expect(guarded).toMatchObject({ statusCode: null, error: "refused: 127.0.0.1 is a loopback address" });
    expect(requests.length).toBe(before);
  });

  it("gives up on a receiver that sends no headers in time, and reports an abort as such", async () => {
    const deliverer = createDeliverer({ allowPrivate: true, ...timeouts });
    const timedOut = await deliverer.send(request(`http://127.0.0.1:${port}/slow`));
    expect(timedOut.statusCode).toBeNull();
    expect(timedOut.error).toMatch(/Headers Timeout|UND_ERR_HEADERS_TIMEOUT/);
    expect(timedOut.aborted).toBe(false);

    const controller = new AbortController();
    const pending = deliverer.send(request(`http://127.0.0.1:${port}/slow`, controller.signal));
    setImmediate(() => controller.abort());
    expect(await pending).toMatchObject({ statusCode: null, aborted: true });
    await deliverer.close();
  });
});
