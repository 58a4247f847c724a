import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { BlockedAddressError, guardedLookup } from "../../server/src/webhooks/guarded-lookup.js";
import type { ResolveAll } from "../../server/src/webhooks/ssrf.js";

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
