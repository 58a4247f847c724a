// The delivery worker's own rules (issue 17: the `webhook-worker` mutation group): what counts as delivered,
// how many attempts run at once, when it looks for work, how it stops, and what it logs. The worker runs on
// a real store (the memory one, which passes the same contract suite as SQLite and PostgreSQL), a real secret
// box and a real pino logger; only the deliverer — the HTTP side, tested on loopback in
// test/server/webhooks.test.ts — is scripted, so each answer and each moment is exactly the one under test.
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../server/src/clock.js";
import type { Logger } from "../../server/src/logger.js";
import { createMemoryStore } from "../../server/src/store/memory/index.js";
import type { WebhookRepo } from "../../server/src/store/webhooks-repo.js";
import type { Deliverer, DeliveryRequest, DeliveryResult } from "../../server/src/webhooks/delivery.js";
import { createSecretBox } from "../../server/src/webhooks/seal.js";
import { DeliveryWorker, type DeliveryWorkerDeps } from "../../server/src/webhooks/worker.js";
import { anEndpoint, anEvent, aWorkspace, T0 } from "../store/target.js";
import { capturedLogger } from "../support/logs.js";

const SECRET = "whsec_dGVzdC1zZWNyZXQtZm9yLXRoZS13b3JrZXI=";

/** A deliverer whose every answer the test scripts; it records what was sent and how many are in flight. */
class ScriptedDeliverer implements Deliverer {
  sent: DeliveryRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  closed = false;
  constructor(public answer: (request: DeliveryRequest) => Promise<DeliveryResult> | DeliveryResult) {}
  async send(request: DeliveryRequest): Promise<DeliveryResult> {
    this.sent.push(request);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.answer(request);
    } finally {
      this.inFlight--;
    }
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const status = (statusCode: number): DeliveryResult => ({ statusCode, error: null, durationMs: 1, aborted: false });

/** Resolves once `signal` aborts, answering as the real deliverer does then. */
const untilAborted = (request: DeliveryRequest) =>
  new Promise<DeliveryResult>((resolve) =>
    request.signal?.addEventListener("abort", () =>
      resolve({ statusCode: null, error: "aborted", durationMs: 1, aborted: true }),
    ),
  );

const workers: DeliveryWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

interface Setup {
  /** Wraps the store's webhook repo the worker sees (to count or fail its claims). */
  wrap?: (repo: WebhookRepo) => WebhookRepo;
  deliverer: ScriptedDeliverer;
  logger?: Logger;
  settings?: Partial<DeliveryWorkerDeps["settings"]>;
  /** The key the worker opens secrets with; by default the one they were sealed with. */
  openKey?: Uint8Array;
}

/** A store with one workspace and endpoint, and a worker on it (not started). */
async function setup({ wrap, deliverer, logger, settings, openKey }: Setup) {
  const store = createMemoryStore();
  const webhooks = wrap ? wrap(store.webhooks) : store.webhooks;
  const sealKey = randomBytes(32);
  const workspace = aWorkspace();
  await store.workspaces.create(workspace, anEvent(workspace.id));
  const endpoint = anEndpoint(workspace.id, { url: "https://hooks.example.com/in" });
  endpoint.sealedSecret = createSecretBox(sealKey).seal(SECRET, endpoint.id);
  await store.webhooks.createEndpoint(endpoint, 10);
  const clock = new ManualClock(T0 + 1000);
  const worker = new DeliveryWorker({
    repo: webhooks,
    deliverer,
    box: createSecretBox(openKey ?? sealKey),
    clock,
    logger: logger ?? capturedLogger("silent").logger,
    settings: {
      retryScheduleMs: [60_000],
      jitter: 0,
      pollIntervalMs: 10_000,
      concurrency: 4,
      fairness: { perWorkspace: 100, perEndpoint: 100 },
      leaseMs: 60_000,
      shutdownGraceMs: 50,
      ...settings,
    },
    userAgent: "Knify-Webhooks/test",
    random: () => 0.5,
  });
  workers.push(worker);
  /** Queues a test event for the endpoint; returns its delivery id. */
  const queue = async () => {
    const delivery = await store.webhooks.enqueueFor(endpoint.id, anEvent(workspace.id, { type: "webhook.test" }));
    if (!delivery) throw new Error("no endpoint");
    return delivery.id;
  };
  const delivery = async (id: string) => {
    const found = await store.webhooks.getDelivery(endpoint.id, id);
    if (!found) throw new Error(`no delivery ${id}`);
    return found;
  };
  return { store, worker, endpoint, queue, delivery };
}

/** The store's repo with `claimDue` replaced (given the original), every other method its own. */
function withClaimDue(
  inner: WebhookRepo,
  claimDue: (original: WebhookRepo["claimDue"]) => WebhookRepo["claimDue"],
): WebhookRepo {
  const replaced = claimDue(inner.claimDue.bind(inner));
  return new Proxy(inner, {
    get(target, property) {
      if (property === "claimDue") return replaced;
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A wrapper of the store's repo whose `claimDue` is counted, and held after claiming while `gate` is set. */
function countingRepo() {
  const calls = { count: 0, gate: undefined as Promise<void> | undefined };
  const wrap = (inner: WebhookRepo) =>
    withClaimDue(inner, (claimDue) => async (...args) => {
      calls.count++;
      const claims = await claimDue(...args);
      await calls.gate;
      return claims;
    });
  return { wrap, calls };
}

const settle = (ms = 60) => new Promise((resolve) => setTimeout(resolve, ms));

describe("what counts as delivered", () => {
  it.each([
    [200, "succeeded"],
    [299, "succeeded"],
    [300, "pending"],
    [199, "pending"],
    [101, "pending"],
    [500, "pending"],
    [null, "pending"],
  ])("an answer of %s leaves the delivery %s (only 2xx is delivered; anything else is retried)", async (code, want) => {
    const deliverer = new ScriptedDeliverer(() =>
      code === null ? { statusCode: null, error: "connect ECONNREFUSED", durationMs: 1, aborted: false } : status(code),
    );
    const { worker, queue, delivery } = await setup({ deliverer });
    const id = await queue();
    worker.start();
    await vi.waitFor(async () => expect((await delivery(id)).attemptCount).toBe(1));
    const after = await delivery(id);
    expect(after.status).toBe(want);
    expect(after.attempts.map((a) => a.statusCode)).toEqual([code]);
    expect(after.nextAttemptAt).toBe(want === "pending" ? T0 + 1000 + 60_000 : null);
  });

  it("an endpoint secret that cannot be opened (the key changed) is a failed attempt, retried, and logged without the secret", async () => {
    const { logger, lines, text } = capturedLogger("info");
    const deliverer = new ScriptedDeliverer(() => status(200));
    const { worker, queue, delivery, endpoint } = await setup({ deliverer, logger, openKey: randomBytes(32) });
    const id = await queue();
    worker.start();
    await vi.waitFor(async () => expect((await delivery(id)).attemptCount).toBe(1));
    const after = await delivery(id);
    expect(deliverer.sent).toHaveLength(0);
    expect(after).toMatchObject({ status: "pending", nextAttemptAt: T0 + 1000 + 60_000 });
    expect(after.attempts).toEqual([
      { at: T0 + 1000, statusCode: null, error: expect.stringContaining("cannot be decrypted"), durationMs: 0 },
    ]);
    const line = lines.find((l) => String(l.msg).includes("cannot be decrypted"));
    expect(line).toMatchObject({ level: 50, delivery: id, endpoint: endpoint.id });
    expect(text()).not.toContain(SECRET);
  });
});

describe("how many attempts run at once", () => {
  it("never more than `concurrency`, and a freed slot takes the next due delivery at once", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const deliverer = new ScriptedDeliverer(async () => {
      await held;
      return status(204);
    });
    const { worker, queue, delivery } = await setup({ deliverer, settings: { concurrency: 2 } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await queue());
    worker.start();
    await vi.waitFor(() => expect(deliverer.inFlight).toBe(2));
    worker.notify();
    await settle();
    expect(deliverer.inFlight).toBe(2);
    release();
    // The poll interval is 10 s: the rest go out because each finished attempt frees its slot.
    await vi.waitFor(async () => {
      for (const id of ids) expect((await delivery(id)).status).toBe("succeeded");
    });
    expect(deliverer.maxInFlight).toBe(2);
    expect(deliverer.sent).toHaveLength(5);
  });
});

describe("when it looks for work", () => {
  it("an idle worker claims once at start, then waits for the poll interval", async () => {
    const deliverer = new ScriptedDeliverer(() => status(200));
    const { wrap, calls } = countingRepo();
    const { worker } = await setup({ deliverer, wrap });
    worker.start();
    await settle(200);
    expect(calls.count).toBe(1);
  });

  it("a delivery queued while it is claiming is sent right after that claim, not at the next poll", async () => {
    const deliverer = new ScriptedDeliverer(() => status(200));
    const { wrap, calls } = countingRepo();
    const { worker, queue, delivery } = await setup({ deliverer, wrap });
    let open: () => void = () => {};
    calls.gate = new Promise<void>((resolve) => (open = resolve));
    worker.start();
    await vi.waitFor(() => expect(calls.count).toBe(1)); // claiming (nothing due), held at the gate
    const id = await queue(); // wakes the worker while it is busy
    calls.gate = undefined;
    open();
    // The poll interval is 10 s: only the wake-up noted during the claim sends it this soon.
    await vi.waitFor(async () => expect((await delivery(id)).status).toBe("succeeded"), { timeout: 2000 });
    // … and the wake-up is used once: the worker goes back to polling (no claim after claim).
    const claims = calls.count;
    await settle(200);
    expect(calls.count - claims).toBeLessThanOrEqual(1);
  });

  it("a failing claim is logged and the worker keeps polling", async () => {
    const { logger, lines } = capturedLogger("info");
    const deliverer = new ScriptedDeliverer(() => status(200));
    let failures = 1;
    const wrap = (inner: WebhookRepo) =>
      withClaimDue(
        inner,
        (claimDue) =>
          (...args) =>
            failures-- > 0 ? Promise.reject(new Error("database is locked")) : claimDue(...args),
      );
    const { worker, queue, delivery } = await setup({ deliverer, wrap, logger, settings: { pollIntervalMs: 20 } });
    const id = await queue();
    worker.start();
    await vi.waitFor(async () => expect((await delivery(id)).status).toBe("succeeded"));
    const line = lines.find((l) => l.msg === "could not claim webhook deliveries");
    expect(line).toMatchObject({ level: 50, err: { message: "database is locked" } });
  });

  it("an attempt that throws is logged with its delivery, and frees its slot", async () => {
    const { logger, lines } = capturedLogger("info");
    let calls = 0;
    const deliverer = new ScriptedDeliverer(() => {
      if (calls++ === 0) throw new Error("deliverer bug");
      return status(200);
    });
    const { worker, queue, delivery } = await setup({ deliverer, logger, settings: { concurrency: 1 } });
    const crashed = await queue();
    const next = await queue();
    worker.start();
    await vi.waitFor(async () => expect((await delivery(next)).status).toBe("succeeded"));
    const line = lines.find((l) => l.msg === "webhook attempt crashed");
    expect(line).toMatchObject({ level: 50, delivery: crashed, err: { message: "deliverer bug" } });
  });
});

describe("stopping", () => {
  it("lets an attempt in flight finish within the grace period", async () => {
    let release: () => void = () => {};
    const deliverer = new ScriptedDeliverer(async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return status(200);
    });
    const { worker, queue, delivery } = await setup({ deliverer, settings: { shutdownGraceMs: 5_000 } });
    const id = await queue();
    worker.start();
    await vi.waitFor(() => expect(deliverer.inFlight).toBe(1));
    const stopped = worker.stop();
    await settle(30);
    release();
    await stopped;
    expect((await delivery(id)).status).toBe("succeeded");
    expect(deliverer.closed).toBe(true);
  });

  it("aborts what is still in flight after the grace period, and an aborted attempt neither counts nor waits", async () => {
    const deliverer = new ScriptedDeliverer(untilAborted);
    const { worker, queue, delivery } = await setup({ deliverer, settings: { shutdownGraceMs: 50 } });
    const id = await queue();
    worker.start();
    await vi.waitFor(() => expect(deliverer.inFlight).toBe(1));
    const started = Date.now();
    await worker.stop();
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(deliverer.sent[0]?.signal?.aborted).toBe(true);
    expect(deliverer.closed).toBe(true);
    // Released, not failed: no attempt recorded, due again at once for the next worker.
    expect(await delivery(id)).toMatchObject({ status: "pending", attemptCount: 0, attempts: [] });
  });

  it("sends nothing once stopped, whether woken or by its own timer, even when stopped in the middle of a claim", async () => {
    const deliverer = new ScriptedDeliverer(() => status(200));
    const { wrap, calls } = countingRepo();
    const { worker, queue } = await setup({ deliverer, wrap, settings: { pollIntervalMs: 20 } });
    let open: () => void = () => {};
    calls.gate = new Promise<void>((resolve) => (open = resolve));
    worker.start();
    await vi.waitFor(() => expect(calls.count).toBe(1));
    const stopped = worker.stop();
    calls.gate = undefined;
    open();
    await stopped;
    await queue();
    worker.notify();
    await settle(150);
    expect(calls.count).toBe(1);
    expect(deliverer.sent).toHaveLength(0);
  });

  it("a worker that never started stops cleanly", async () => {
    const deliverer = new ScriptedDeliverer(() => status(200));
    const { worker } = await setup({ deliverer });
    await expect(worker.stop()).resolves.toBeUndefined();
    expect(deliverer.closed).toBe(true);
  });
});

describe("what it logs", () => {
  it("each failed attempt at warn with its ids, status and error; each success at debug; never the secret", async () => {
    const { logger, lines, text } = capturedLogger("debug");
    const deliverer = new ScriptedDeliverer(() => status(503));
    const { worker, queue, delivery, endpoint } = await setup({ deliverer, logger });
    const id = await queue();
    worker.start();
    await vi.waitFor(async () => expect((await delivery(id)).attemptCount).toBe(1));
    const failed = lines.filter((l) => l.msg === "webhook attempt failed");
    expect(failed).toHaveLength(1);
    const eventId = deliverer.sent[0]?.headers["webhook-id"];
    expect(failed[0]).toMatchObject({
      level: 40,
      delivery: id,
      endpoint: endpoint.id,
      event: eventId,
      status_code: 503,
      next: "retry",
      error: null,
    });
    expect(lines.some((l) => l.msg === "webhook delivered")).toBe(false);
    expect(text()).not.toContain(SECRET);
  });

  it("a success at debug, with its ids", async () => {
    const { logger, lines } = capturedLogger("debug");
    const deliverer = new ScriptedDeliverer(() => status(202));
    const { worker, queue, delivery, endpoint } = await setup({ deliverer, logger });
    const id = await queue();
    worker.start();
    await vi.waitFor(async () => expect((await delivery(id)).status).toBe("succeeded"));
    await vi.waitFor(() => expect(lines.some((l) => l.msg === "webhook delivered")).toBe(true));
    expect(lines.find((l) => l.msg === "webhook delivered")).toMatchObject({
      level: 20,
      delivery: id,
      endpoint: endpoint.id,
      status_code: 202,
      next: "succeeded",
    });
    expect(lines.some((l) => l.msg === "webhook attempt failed")).toBe(false);
  });
});
