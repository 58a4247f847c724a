/**
 * Counts each key's open event streams on this replica, so that one key cannot hold an unbounded number of
 * long-lived connections (#15: `KNIFY_MAX_STREAMS_PER_KEY`).
 * @example const slots = new StreamSlots(20); const release = slots.take(key.id); if (!release) throw tooMany();
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(readonly perKey: number) {}

  /** Takes a slot: a function that gives it back (once, however often it is called), or null when none is free. */
  take(keyId: string): (() => void) | null {
    const count = this.open.get(keyId) ?? 0;
    if (count >= this.perKey) return null;
    this.open.set(keyId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(keyId) ?? 1) - 1;
      if (left === 0) this.open.delete(keyId);
      else this.open.set(keyId, left);
    };
  }
}
