// A Koa webhook receiver that verifies every delivery against the raw request body.
//
//   KNIFY_WEBHOOK_SECRET=whsec_… PORT=3000 npx tsx examples/webhook-receiver.ts
//
// Register it with `POST /webhook-endpoints` (`client.webhookEndpoints.create({ url })`; the response holds the
// secret, once), then send it a test event with `client.webhookEndpoints.test(endpointId)`. A server running on
// your machine delivers to loopback URLs only when started with KNIFY_WEBHOOK_ALLOW_PRIVATE=1.

import type { IncomingMessage } from "node:http";
import { pathToFileURL } from "node:url";
import { unwrap, type WebhookEvent, WebhookVerificationError } from "@knify/sdk/webhooks";
import Koa from "koa";

/** Options of {@link createWebhookReceiver}. */
export interface WebhookReceiverOptions {
  /** The endpoint's signing secret (`whsec_…`); pass the old and the new one while rotating it. */
  secret: string | readonly string[];
  /** Handles one verified event. Throw to answer 500, and Knify delivers the event again later. */
  onEvent: (event: WebhookEvent) => void | Promise<void>;
  /** The path Knify posts to. Default `/webhooks/knify`. */
  path?: string;
  /** Larger bodies are refused with 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Where the receiver reports what it accepted and refused. Default `console.log`. */
  log?: (line: string) => void;
}

/** Webhook ids already handled. Delivery is at least once; in production, keep these in your database. */
const REMEMBERED_IDS = 10_000;

/**
 * A Koa app that accepts Knify deliveries at `path`: 204 for a verified event, 400 for anything that fails
 * verification (bad signature, tampered body, replayed old timestamp), 413 for an oversized body.
 *
 * @example
 * createWebhookReceiver({ secret: process.env.KNIFY_WEBHOOK_SECRET!, onEvent: (event) => console.log(event.type) }).listen(3000);
 */
export function createWebhookReceiver(options: WebhookReceiverOptions): Koa {
  const { secret, onEvent, path = "/webhooks/knify", maxBodyBytes = 1024 * 1024, log = console.log } = options;
  const handled = new Set<string>();
  const app = new Koa();

  app.use(async (ctx) => {
    if (ctx.path !== path) return; // Koa answers 404
    if (ctx.method !== "POST") {
      ctx.status = 405;
      ctx.set("Allow", "POST");
      return;
    }
    // The signature covers the exact bytes Knify sent: read them before anything parses the body.
    const raw = await readRawBody(ctx.req, maxBodyBytes);
    if (raw === undefined) {
      ctx.status = 413;
      return;
    }

    let event: WebhookEvent;
    try {
      // Checks webhook-signature and that webhook-timestamp is recent (replays are refused).
      event = unwrap(raw, ctx.req.headers, secret);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      log(`refused a delivery: ${error.message}`);
      ctx.status = 400;
      ctx.body = { error: error.code };
      return;
    }

    if (handled.has(event.id)) {
      log(`already handled ${event.type} ${event.id}`);
    } else {
      log(`verified ${event.type} ${event.id}`);
      await onEvent(event);
      // Remembered only once handled: if onEvent throws, Knify's retry gets another chance.
      remember(handled, event.id);
    }
    // Answer quickly: Knify waits a few seconds, then counts the attempt as failed and retries.
    ctx.status = 204;
  });
  return app;
}

/** The request body as bytes, or `undefined` when it is larger than `limit`. */
async function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(req.headers["content-length"]) > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even when over the limit, so the 413 goes out on a healthy connection.
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks, size);
}

function remember(ids: Set<string>, id: string): void {
  ids.add(id);
  // A Set iterates in insertion order, so the first id is the oldest.
  if (ids.size > REMEMBERED_IDS) ids.delete(ids.values().next().value as string);
}

/** One line per event, for the console. */
function summarize(event: WebhookEvent): string {
  switch (event.type) {
    case "webhook.test":
      return `test event for ${event.data.endpoint_id}: ${event.data.message}`;
    case "job.completed":
      return `job ${event.data.id} completed (${event.data.turns} turns)`;
    case "job.failed":
      return `job ${event.data.id} failed: ${event.data.error?.message ?? "no reason given"}`;
    case "workspace.updated":
      return `workspace ${event.data.workspace_id} now has ${event.data.file_count} files`;
    default:
      return `${event.type} at ${event.created_at}`;
  }
}

function main(): void {
  const secret = process.env.KNIFY_WEBHOOK_SECRET;
  if (!secret) {
    console.error("Set KNIFY_WEBHOOK_SECRET to the endpoint's signing secret (whsec_…, returned when it was created).");
    process.exitCode = 1;
    return;
  }
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const app = createWebhookReceiver({ secret, onEvent: (event) => console.log(`  ${summarize(event)}`) });
  const server = app.listen(port, host, () => {
    const address = server.address();
    const actual = typeof address === "object" && address ? address.port : port;
    console.log(`Listening on http://${host}:${actual}/webhooks/knify`);
  });
  process.once("SIGTERM", () => server.close());
  process.once("SIGINT", () => server.close());
}

// Listen only when run directly, not when a test imports createWebhookReceiver.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
