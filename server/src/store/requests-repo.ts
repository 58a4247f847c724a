/** The outcome of admitting one request against a key's per-minute limit. */
export interface Admission {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms at which the full limit is available again. */
  resetAt: number;
  /** When refused: ms until one request would be allowed. */
  retryAfterMs: number;
}

export interface Usage {
  requestsToday: number;
  requestsThisMonth: number;
  lastUsed: number | null;
}

export interface RequestRepo {
  /**
   * GCRA over a one-minute period: allows at most `limitPerMinute` requests in any 60 s, with no double
   * burst at a window edge. An admitted request is counted in the key's UTC day/month usage and
   * `last_used`; a refused one consumes and counts nothing. Atomic, so exact under concurrency.
   */
  admit(keyId: string, limitPerMinute: number, now: number): Promise<Admission>;
  usage(keyId: string, now: number): Promise<Usage>;
  /** The key's admitted requests per UTC day from `fromDay` to `toDay` (YYYY-MM-DD, inclusive); days without requests are left out. */
  daily(keyId: string, fromDay: string, toDay: string): Promise<DayCount[]>;
}

/** Admitted requests of one key on one UTC day. */
export interface DayCount {
  day: string;
  count: number;
}
