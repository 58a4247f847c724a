export interface IdempotencyRecord {
  fingerprint: string;
  /** Null while the first request is still being handled. */
  response: { status: number; body: string; contentType: string } | null;
}

/** Who holds an unfinished idempotency claim, and for how long it holds without being renewed. */
export interface ClaimLease {
  /** The replica id of the process handling the request. */
  owner: string;
  leaseMs: number;
}

export interface IdempotencyRepo {
  /**
   * Claims the key for this request; returns the existing record instead when the key was used within the
   * TTL. An unfinished claim of the same request whose lease has run out is taken over (returns null).
   */
  claim(
    scope: string,
    key: string,
    fingerprint: string,
    now: number,
    ttlMs: number,
    lease: ClaimLease,
  ): Promise<IdempotencyRecord | null>;
  /** Extends the lease of a claim this owner still holds, while its request runs. */
  renew(scope: string, key: string, lease: ClaimLease, now: number): Promise<void>;
  complete(scope: string, key: string, response: { status: number; body: string; contentType: string }): Promise<void>;
  /** Releases a claim whose request failed with a server error, so that a retry can run. */
  release(scope: string, key: string): Promise<void>;
  /**
   * Releases every unfinished claim of this owner: called at start, when any claim under this replica id
   * was left by a process that died. Returns how many were released.
   */
  releaseOwnedBy(owner: string): Promise<number>;
}

/** A stored claim as the stores keep it (SQL rows and the memory store alike). */
export interface StoredClaim {
  fingerprint: string;
  status: number | null;
  body: string | null;
  content_type: string | null;
  lease_until: number | null;
}

/**
 * Whether the same request may take over an existing claim: it is unfinished and its lease ran out, so the
 * process that held it died (a live one renews it).
 */
export function mayTakeOver(claim: StoredClaim, fingerprint: string, now: number): boolean {
  return claim.status === null && claim.fingerprint === fingerprint && (claim.lease_until ?? 0) <= now;
}

/** What `claim` returns for a key already used: the fingerprint, and the stored response once there is one. */
export function existingRecord(claim: StoredClaim): IdempotencyRecord {
  return {
    fingerprint: claim.fingerprint,
    response:
      claim.status === null
        ? null
        : { status: claim.status, body: claim.body ?? "", contentType: claim.content_type ?? "" },
  };
}
