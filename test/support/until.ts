/**
 * Polls `check` until it returns a value (anything but undefined), then returns it; throws naming `what`
 * after `ms`. Tests wait for conditions this way, never for a fixed time (they must pass with one core busy).
 * @example const job = await until("job finished", async () => ((await get(id)).status === "completed" ? job : undefined));
 */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
