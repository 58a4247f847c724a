import { type HttpHandler, http } from "msw";
import { generateApiKey } from "../../../server/src/auth/key-format.js";
import { createMemoryApi } from "../../../server/src/memory-api.js";
import specJson from "../generated/spec.json" with { type: "json" };
import { ClockRunner } from "./clock-runner.js";
import { createState, type MockState } from "./state.js";
import { checkResponses, type KnifySpec, type ResponseValidator, responseValidator } from "./validate.js";

/** Options of `createKnifyMock`. */
export interface KnifyMockOptions {
  /** The API's base URL; requests under it are intercepted. Default `https://api.knify.io`. */
  baseURL?: string;
  /**
   * The secret of the admin key the mock starts with: a well-formed key (`knify_live_…`/`knify_test_…` with its
   * checksum, e.g. one an earlier mock made). Random by default.
   */
  adminKey?: string;
  /** The mock clock, for everything: key expiry, rate limits, idempotency, job durations. Default: the wall clock. */
  now?: () => Date;
  /** How long a job turn runs, in mock-clock milliseconds. Default 0: a job is finished by the next request. */
  jobDurationMs?: number;
  /** Accept loopback and private webhook URLs, as a server with `KNIFY_WEBHOOK_ALLOW_PRIVATE=1` does. */
  allowPrivateWebhookUrls?: boolean;
  /** Most unrevoked keys per workspace through `POST /keys`, as the server's `KNIFY_MAX_KEYS_PER_WORKSPACE`. Default 100. */
  maxKeysPerWorkspace?: number;
}

/** An in-memory Knify API for msw: the reference server's own rules, on a memory store. */
export interface KnifyMock {
  /** msw handlers for every request under the base URL. */
  handlers: HttpHandler[];
  /** Seed and inspect keys, jobs, workspaces and webhook deliveries; move jobs along. */
  state: MockState;
  /** The secret of a key with `admin:all` and no workspace. */
  adminKey: string;
  /** The OpenAPI document the mock obeys. */
  spec: KnifySpec;
  /** Checks a body against the spec's schema for an operation, status and content type. */
  validateResponse: ResponseValidator;
  /** Every response the mock refused to send because the spec does not allow it (each also threw). */
  violations: string[];
}

// Typed as the loose KnifySpec so that declaration files do not inline the whole document.
const spec: KnifySpec = specJson;

/**
 * Creates an in-memory Knify API: the reference server's core — routing, keys, permissions, workspace scope,
 * validation, idempotency, rate limits, the job state machine, webhook fan-out — on a memory store, with jobs
 * run by the server's simulator on the mock clock. Webhook deliveries are queued, never sent. Every response
 * is checked against the spec before msw sends it.
 *
 * @example
 * import { setupServer } from "msw/node";
 * import { createKnifyMock } from "@knify/sdk/testing";
 *
 * const mock = createKnifyMock();
 * setupServer(...mock.handlers).listen({ onUnhandledRequest: "error" });
 * const { api_key } = await mock.state.createKey({ permissions: ["jobs:create", "jobs:read"] });
 * // ...point your code at https://api.knify.io with api_key
 */
export function createKnifyMock(options: KnifyMockOptions = {}): KnifyMock {
  const now = options.now;
  const clock = { now: now ? () => now().getTime() : () => Date.now() };
  const base = new URL(options.baseURL ?? "https://api.knify.io");
  const basePath = base.pathname.replace(/\/+$/, "");
  const origin = `${base.origin}${basePath}`;
  const runner = new ClockRunner(clock, options.jobDurationMs ?? 0, () => api.store);
  const api = createMemoryApi({
    clock,
    runner,
    basePath,
    env: {
      KNIFY_PUBLIC_URL: origin,
      KNIFY_WEBHOOK_ALLOW_PRIVATE: options.allowPrivateWebhookUrls ? "1" : "0",
      KNIFY_MAX_KEYS_PER_WORKSPACE: String(options.maxKeysPerWorkspace ?? 100),
      // A continue of a running job is a 409 at once: waiting for its turn would wait on the mock clock.
      KNIFY_CONTINUE_WAIT_MS: "0",
    },
  });
  api.start();
  const adminKey = options.adminKey ?? generateApiKey("live").apiKey;
  const { state, ready } = createState(api, runner, clock, adminKey);
  const validateResponse = responseValidator(spec);
  const violations: string[] = [];

  const checked = checkResponses(api.handle, basePath, validateResponse, violations);
  const handle = async (request: Request) => {
    await ready;
    await runner.settle();
    return checked(request);
  };

  return {
    handlers: [http.all(`${origin}/*`, ({ request }) => handle(request))],
    state,
    adminKey,
    spec,
    validateResponse,
    violations,
  };
}
