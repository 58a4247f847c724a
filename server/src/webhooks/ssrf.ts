import ipaddr from "ipaddr.js";

/** Resolves a host name to all its addresses (the system resolver in the server; injected in tests). */
export type ResolveAll = (hostname: string) => Promise<string[]>;

/**
 * 4 or 6 for an IP address as `net.isIP` reads it (dotted-quad IPv4, or IPv6), 0 for anything else —
 * ipaddr.js alone, so the rule runs outside Node too (issue 9).
 */
export function ipVersion(address: string): 0 | 4 | 6 {
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) return 4;
  return ipaddr.IPv6.isValid(address) ? 6 : 0;
}

/** ipaddr.js range names → the words a refusal uses; any other non-`unicast` range is "not a global unicast address". */
const REASONS: Record<string, string> = {
  loopback: "a loopback address",
  private: "a private address",
  uniqueLocal: "a private address",
  linkLocal: "a link-local address",
  deprecatedSiteLocal: "a link-local address",
  unspecified: "an unspecified address",
  carrierGradeNat: "a carrier-grade NAT address (RFC 6598)",
  multicast: "a multicast address",
  broadcast: "a broadcast address",
  reserved: "a reserved, documentation or benchmarking address",
};

const reasonFor = (range: string) => REASONS[range] ?? `not a global unicast address (${range})`;

const NAT64_WELL_KNOWN = ipaddr.IPv6.parse("64:ff9b::");
// RFC 4291 §2.5.4: global unicast is 2000::/3; everything outside it that ipaddr.js calls "unicast" is unassigned.
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parse("2000::");

/** The IPv4 address an IPv6 address carries, for the forms a connection can actually reach it through. */
function embeddedIPv4(address: ipaddr.IPv6): { v4: ipaddr.IPv4; via: string } | null {
  const p = address.parts;
  const fromParts = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const range = address.range();
  // ::ffff:a.b.c.d is how dual-stack sockets spell a.b.c.d itself, so no note is added for it.
  if (range === "ipv4Mapped") return { v4: fromParts(p[6] ?? 0, p[7] ?? 0), via: "" };
  if (range === "rfc6145") return { v4: fromParts(p[6] ?? 0, p[7] ?? 0), via: "an IPv4-translated address" };
  // RFC 6052 §2.1: the well-known NAT64 prefix is a /96 with the IPv4 address in the last 32 bits.
  if (address.match(NAT64_WELL_KNOWN, 96)) return { v4: fromParts(p[6] ?? 0, p[7] ?? 0), via: "a NAT64 address" };
  // RFC 3056 §2: 2002:V4ADDR::/48.
  if (range === "6to4") return { v4: fromParts(p[1] ?? 0, p[2] ?? 0), via: "a 6to4 address" };
  // RFC 4291 §2.5.5.1 (deprecated IPv4-compatible ::a.b.c.d); :: and ::1 keep their own ranges.
  if (range === "unicast" && p.slice(0, 6).every((x) => x === 0)) {
    return { v4: fromParts(p[6] ?? 0, p[7] ?? 0), via: "an IPv4-compatible address" };
  }
  return null;
}

/**
 * Why an address may not be a webhook target (e.g. "a private address"), or null when it may. Only global
 * unicast passes (#15): ipaddr.js classifies the special-purpose ranges (IANA registries), and an IPv4
 * address inside an IPv6 one (mapped, NAT64, 6to4, IPv4-compatible) is decoded and judged as that IPv4.
 */
export function blockedReason(address: string): string | null {
  if (ipVersion(address) === 0) return "not an IP address";
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv4") return parsed.range() === "unicast" ? null : reasonFor(parsed.range());
  const v6 = parsed as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded) {
    const range = embedded.v4.range();
    if (range === "unicast") return null;
    return embedded.via === "" ? reasonFor(range) : `${reasonFor(range)} (${embedded.v4}, inside ${embedded.via})`;
  }
  if (v6.range() !== "unicast") return reasonFor(v6.range());
  return v6.match(GLOBAL_UNICAST_V6, 3) ? null : reasonFor("unassigned");
}

export const HINT = "Use a public address, or run the server with KNIFY_WEBHOOK_ALLOW_PRIVATE=1 for local development.";

/** The host of a URL without IPv6 brackets. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, "$1");

/**
 * Checks an endpoint URL when it is registered. Returns what is wrong, or null when it is acceptable:
 * http(s) only, no credentials, and (unless private targets are allowed) a host that is, and resolves
 * only to, global unicast addresses (see {@link blockedReason}).
 */
export async function checkWebhookUrl(
  raw: string,
  options: { allowPrivate: boolean; resolveAll: ResolveAll },
): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${JSON.stringify(raw)} is not an absolute URL; give one like https://hooks.example.com/knify.`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return `The URL scheme ${url.protocol} is not supported; webhook URLs use https:// (or http://).`;
  }
  if (url.username !== "" || url.password !== "") {
    return "The URL contains credentials (user:password@); they would be stored and shown in clear. Authenticate deliveries by their signature instead.";
  }
  if (options.allowPrivate) return null;
  const host = hostOf(url);
  if (ipVersion(host) !== 0) {
    const reason = blockedReason(host);
    return reason ? `The URL's host ${host} is ${reason}. ${HINT}` : null;
  }
  let addresses: string[];
  try {
    addresses = await options.resolveAll(host);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "error";
    return `The URL's host ${host} does not resolve (${code}); check the name, or register the endpoint once its DNS record exists.`;
  }
  for (const address of addresses) {
    const reason = blockedReason(address);
    if (reason) return `The URL's host ${host} resolves to ${address}, ${reason}. ${HINT}`;
  }
  return addresses.length === 0 ? `The URL's host ${host} resolves to no address.` : null;
}
