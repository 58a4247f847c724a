import { createHmac } from "node:crypto";
import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { BlockedAddressError, guardedLookup } from "../../server/src/webhooks/guarded-lookup.js";
import { signWebhook } from "../../server/src/webhooks/sign.js";
import { blockedReason, checkWebhookUrl, type ResolveAll } from "../../server/src/webhooks/ssrf.js";

// Issue 17, from the mutation run of server/src/webhooks/ssrf.ts: the lookup a delivery's socket connects
// through (the DNS-rebinding guard) had one test. Here each answer it can give, with a resolver injected.

const dns: Record<string, string[]> = {
  "public.example": ["93.184.216.34", "2606:4700::1111"],
  "v6only.example": ["2606:4700::1111"],
  "rebound.example": ["93.184.216.34", "127.0.0.1"],
  "empty.example": [],
};
const resolveAll: ResolveAll = async (host) => {
  const found = dns[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return found;
};

type Outcome = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family: number | undefined };
const lookup = (host: string, options: { family?: number; all?: boolean }) =>
  new Promise<Outcome>((resolve) => {
    guardedLookup(resolveAll)(
      host,
      options as never,
      ((error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) =>
        resolve({ error, address, family })) as never,
    );
  });

describe("guardedLookup", () => {
  it("answers the first address, or the first of the family asked for", async () => {
    expect(await lookup("public.example", {})).toEqual({ error: null, address: "93.184.216.34", family: 4 });
    expect(await lookup("public.example", { family: 6 })).toEqual({
      error: null,
      address: "2606:4700::1111",
      family: 6,
    });
    expect(await lookup("public.example", { family: 4 })).toEqual({ error: null, address: "93.184.216.34", family: 4 });
  });

  it("answers every address when asked for all", async () => {
    expect(await lookup("public.example", { all: true })).toEqual({
      error: null,
      address: [
        { address: "93.184.216.34", family: 4 },
        { address: "2606:4700::1111", family: 6 },
      ],
      family: undefined,
    });
  });

  it("refuses a host when any of its addresses is blocked, naming it", async () => {
    const { error } = await lookup("rebound.example", {});
    expect(error).toBeInstanceOf(BlockedAddressError);
    expect(error?.code).toBe("EWEBHOOKBLOCKED");
    expect(error?.message).toBe(
      "refused: rebound.example resolves to 127.0.0.1, a loopback address. Use a public address, or run the server with KNIFY_WEBHOOK_ALLOW_PRIVATE=1 for local development.",
    );
  });

  it("says ENOTFOUND when no address of the family is left, and passes the resolver's error on", async () => {
    const none = await lookup("v6only.example", { family: 4 });
    expect(none.error?.code).toBe("ENOTFOUND");
    expect(none.error?.message).toBe("v6only.example resolves to no address");
    expect((await lookup("empty.example", {})).error?.code).toBe("ENOTFOUND");
    const failed = await lookup("missing.example", {});
    expect(failed.error?.message).toBe("getaddrinfo ENOTFOUND missing.example");
  });
});

// The registration check's answers that the API's own validation never lets through (the spec's `format: uri`
// refuses a non-URL first), and the IPv4-mapped decoding down to its last bits.
describe("checkWebhookUrl and blockedReason", () => {
  const check = (url: string, resolver: ResolveAll = resolveAll) =>
    checkWebhookUrl(url, { allowPrivate: false, resolveAll: resolver });

  it("explains a URL that does not parse, a host that resolves to nothing, and a resolver error without a code", async () => {
    expect(await check("not a url")).toBe(
      '"not a url" is not an absolute URL; give one like https://hooks.example.com/knify.',
    );
    expect(await check("https://empty.example/hook")).toBe("The URL's host empty.example resolves to no address.");
    expect(await check("https://public.example/hook")).toBeNull();
    const codeless: ResolveAll = async () => {
      throw new Error("resolver broke");
    };
    expect(await check("https://public.example/hook", codeless)).toBe(
      "The URL's host public.example does not resolve (error); check the name, or register the endpoint once its DNS record exists.",
    );
  });

  it("names a non-address as such, and decodes every bit of an IPv4-mapped address", () => {
    expect(blockedReason("hooks.example.com")).toBe("not an IP address");
    // 192.0.3.1 is global unicast; dropping its low 16 bits would make it 192.0.0.0, in the reserved 192.0.0.0/24.
    expect(blockedReason("192.0.3.1")).toBeNull();
    expect(blockedReason("::ffff:192.0.3.1")).toBeNull();
    expect(blockedReason("::ffff:192.0.0.1")).not.toBeNull();
  });

  it("signs with no key bytes when a secret is not base64, as Buffer.from(…, 'base64') reads it", () => {
    const body = new TextEncoder().encode('{"ok":true}');
    const headers = signWebhook(body, "whsec_%%%", "evt_1", 1_700_000_000);
    const expected = createHmac("sha256", Buffer.alloc(0)).update("evt_1.1700000000.").update(body).digest("base64");
    expect(headers["webhook-signature"]).toBe(`v1,${expected}`);
  });
});
