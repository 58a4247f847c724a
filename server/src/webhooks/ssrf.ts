import { promises as dns, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

/** Resolves a host name to all its addresses (injected in tests to simulate DNS, rebinding included). */
export type ResolveAll = (hostname: string) => Promise<string[]>;

/** The system resolver (getaddrinfo, as a socket would use). */
export const systemResolveAll: ResolveAll = async (hostname) =>
  (await dns.lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

function ranges(reason: string, v4: [string, number][], v6: [string, number][] = []) {
  const list = new BlockList();
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, "ipv4");
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, "ipv6");
  return { reason, list };
}

// Node's BlockList also matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against the IPv4 rules.
const BLOCKED = [
  ranges("a loopback address", [["127.0.0.0", 8]], [["::1", 128]]),
  ranges(
    "a private address",
    [
      ["10.0.0.0", 8],
      ["172.16.0.0", 12],
      ["192.168.0.0", 16],
    ],
    [["fc00::", 7]],
  ),
  ranges(
    "a link-local address",
    [["169.254.0.0", 16]],
    [
      ["fe80::", 10],
      ["fec0::", 10],
    ],
  ),
  ranges("an unspecified address", [["0.0.0.0", 8]], [["::", 128]]),
  ranges("a carrier-grade NAT address (RFC 6598)", [["100.64.0.0", 10]]),
  ranges("a multicast address", [["224.0.0.0", 4]], [["ff00::", 8]]),
  ranges("a reserved address", [["240.0.0.0", 4]]),
];

/** Why an address may not be a webhook target (e.g. "a private address"), or null when it may. */
export function blockedReason(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return "not an IP address";
  const type = family === 4 ? "ipv4" : "ipv6";
  return BLOCKED.find(({ list }) => list.check(address, type))?.reason ?? null;
}

const HINT = "Use a public address, or run the server with KNIFY_WEBHOOK_ALLOW_PRIVATE=1 for local development.";

/** The host of a URL without IPv6 brackets. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, "$1");

/**
 * Checks an endpoint URL when it is registered. Returns what is wrong, or null when it is acceptable:
 * http(s) only, no credentials, and (unless private targets are allowed) a host that neither is nor
 * resolves to a private, loopback, link-local, unspecified, CGNAT or multicast address.
 */
export async function checkWebhookUrl(
  raw: string,
  options: { allowPrivate: boolean; resolveAll?: ResolveAll },
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
  if (isIP(host) !== 0) {
    const reason = blockedReason(host);
    return reason ? `The URL's host ${host} is ${reason}. ${HINT}` : null;
  }
  let addresses: string[];
  try {
    addresses = await (options.resolveAll ?? systemResolveAll)(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    return `The URL's host ${host} does not resolve (${code}); check the name, or register the endpoint once its DNS record exists.`;
  }
  for (const address of addresses) {
    const reason = blockedReason(address);
    if (reason) return `The URL's host ${host} resolves to ${address}, ${reason}. ${HINT}`;
  }
  return addresses.length === 0 ? `The URL's host ${host} resolves to no address.` : null;
}

/** An error raised when a delivery would connect to a refused address. */
export class BlockedAddressError extends Error {
  readonly code = "EWEBHOOKBLOCKED";
}

/**
 * A `lookup` for `net.connect` that resolves the host and refuses when any address is blocked, so the socket
 * connects only to an address that was just checked: a DNS answer that changed since the endpoint was
 * registered (DNS rebinding) cannot reach an internal service.
 */
export function guardedLookup(resolveAll: ResolveAll = systemResolveAll): LookupFunction {
  return (hostname, options, callback) => {
    resolveAll(hostname).then(
      (all) => {
        const addresses =
          options.family === 4 || options.family === 6 ? all.filter((a) => isIP(a) === options.family) : all;
        for (const address of addresses) {
          const reason = blockedReason(address);
          if (reason) {
            callback(new BlockedAddressError(`refused: ${hostname} resolves to ${address}, ${reason}. ${HINT}`), "", 0);
            return;
          }
        }
        const first = addresses[0];
        if (first === undefined) {
          callback(Object.assign(new Error(`${hostname} resolves to no address`), { code: "ENOTFOUND" }), "", 0);
        } else if (options.all) {
          callback(
            null,
            addresses.map((address): LookupAddress => ({ address, family: isIP(address) })),
          );
        } else {
          callback(null, first, isIP(first));
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}
