import { promises as dns, type LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { blockedReason, HINT, ipVersion, type ResolveAll } from "./ssrf.js";

/** The system resolver (getaddrinfo, as a socket would use). */
export const systemResolveAll: ResolveAll = async (hostname) =>
  (await dns.lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

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
          options.family === 4 || options.family === 6 ? all.filter((a) => ipVersion(a) === options.family) : all;
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
            addresses.map((address): LookupAddress => ({ address, family: ipVersion(address) })),
          );
        } else {
          callback(null, first, ipVersion(first));
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}
