import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a {@link startReceiver} got: its path and its `webhook-id` header. */
export interface Hit {
  path: string;
  webhookId: string | undefined;
}

/**
 * A real webhook receiver on a loopback port that answers 200 and records every request, for tests that
 * must show what was (and was not) delivered.
 * @example const receiver = await startReceiver(); afterAll(() => receiver.stop());
 */
export async function startReceiver(): Promise<{ url: string; hits: Hit[]; stop(): Promise<void> }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const id = req.headers["webhook-id"];
      hits.push({ path: req.url ?? "/", webhookId: typeof id === "string" ? id : undefined });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
