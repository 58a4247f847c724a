import pg from "pg";

/** The channels the PostgreSQL store notifies on, inside the writing transaction (sent at commit). */
export const CHANNELS = {
  /** A webhook delivery became due (queued, redelivered or released); no payload. */
  webhooks: "knify_webhooks",
  /** A job changed (events or status); payload `<job id>` or `<job id> queued` when a turn was queued. */
  jobs: "knify_jobs",
} as const;

type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

// How long to wait before listening again after the connection broke; polling covers the gap meanwhile.
const RECONNECT_MS = 1000;

/**
 * One dedicated connection that LISTENs on the store's channels and fans notifications out to this
 * process's subscribers: how a replica hears at once what another one committed. Notifications are a
 * wake-up, never the data: a subscriber that missed one (the connection broke) catches up by polling.
 */
export class Notifications {
  private readonly listeners = new Map<Channel, Set<(payload: string) => void>>();
  private client: pg.Client | null = null;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly url: string) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on("notification", (message) => {
      const set = this.listeners.get(message.channel as Channel);
      if (!set) return;
      for (const listener of set) listener(message.payload ?? "");
    });
    client.on("error", () => this.reconnect(client));
    client.on("end", () => this.reconnect(client));
    await client.connect();
    for (const channel of Object.values(CHANNELS)) await client.query(`LISTEN ${channel}`);
    this.client = client;
  }

  subscribe(channel: Channel, listener: (payload: string) => void): () => void {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    // A wrapper per subscription, so that one function subscribed twice unsubscribes independently.
    const subscription = (payload: string) => listener(payload);
    set.add(subscription);
    return () => set.delete(subscription);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private reconnect(broken: pg.Client): void {
    if (this.closed || this.client !== broken) return;
    this.client = null;
    broken.end().catch(() => {});
    this.scheduleAgain();
  }

  private scheduleAgain(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => {
      this.start().catch(() => this.scheduleAgain());
    }, RECONNECT_MS);
  }
}

/** Queues a notification inside the caller's transaction: PostgreSQL sends it only if, and when, it commits. */
export async function notify(client: pg.ClientBase, channel: Channel, payload = ""): Promise<void> {
  await client.query("SELECT pg_notify($1, $2)", [channel, payload]);
}
