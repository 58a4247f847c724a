import { type HttpHandler, http } from "msw";
import specJson from "../generated/spec.json" with { type: "json" };
import type { OperationHandlers } from "./context.js";
import { eventHandlers } from "./handlers/events.js";
import { healthHandlers } from "./handlers/health.js";
import { jobHandlers } from "./handlers/jobs.js";
import { keyHandlers } from "./handlers/keys.js";
import { webhookHandlers } from "./handlers/webhooks.js";
import { workspaceHandlers } from "./handlers/workspaces.js";
import type { Permission } from "./records.js";
import { createRouter, type Route } from "./router.js";
import { componentSchemas, type KnifySpec, readOperations } from "./spec.js";
import { MockState } from "./state.js";
import { type ResponseValidator, requestValidators, responseValidator } from "./validate.js";

/** Options of `createKnifyMock`. */
export interface KnifyMockOptions {
  /** The API's base URL; requests under it are intercepted. Default `https://api.knify.io`. */
  baseURL?: string;
  /** The secret of the admin key the mock starts with (`knify_live_…`/`knify_test_…`); random by default. */
  adminKey?: string;
  /** The mock clock. Default: the wall clock. Inject one to move jobs along deterministically. */
  now?: () => Date;
  /** How long a job turn runs, in mock-clock milliseconds. Default 0: a job is completed on the next request. */
  jobDurationMs?: number;
  /** Accept loopback and private webhook URLs, as a server with `KNIFY_WEBHOOK_ALLOW_PRIVATE=1` does. */
  allowPrivateWebhookUrls?: boolean;
  /** Most unrevoked keys per workspace through `POST /keys`, as the server's `KNIFY_MAX_KEYS_PER_WORKSPACE`. Default 100. */
  maxKeysPerWorkspace?: number;
}

/** A spec-driven in-memory Knify API for msw. */
export interface KnifyMock {
  /** msw handlers for every path of the spec under the base URL, plus a 404 for any other path under it. */
  handlers: HttpHandler[];
  /** The in-memory data: seed and inspect keys, jobs, workspaces, endpoints and deliveries. */
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

/** Every operation's handler, by operationId. */
const HANDLERS: OperationHandlers = {
  ...healthHandlers(spec.info.version),
  ...jobHandlers,
  ...eventHandlers,
  ...workspaceHandlers,
  ...keyHandlers,
  ...webhookHandlers,
};

/** Literal segments sort before `{param}` ones, so `/keys/verify` is tried before `/keys/{key_id}`. */
function bySpecificity(a: string, b: string): number {
  const sa = a.split("/");
  const sb = b.split("/");
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const pa = sa[i]?.startsWith("{") ? 1 : 0;
    const pb = sb[i]?.startsWith("{") ? 1 : 0;
    if (pa !== pb) return pa - pb;
  }
  return sb.length - sa.length;
}

const stringParams = (params: Record<string, string | readonly string[] | undefined>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(params).flatMap(([name, value]) => (typeof value === "string" ? [[name, value]] : [])),
  );

function mswHandlers(base: string, paths: string[], route: Route): HttpHandler[] {
  const handlers = [...paths].sort(bySpecificity).map((path) =>
    // msw path parameters are `:name` where OpenAPI has `{name}`.
    http.all(`${base}${path.replace(/\{(\w+)\}/g, ":$1")}`, ({ request, params }) =>
      route(request, path, stringParams(params)),
    ),
  );
  handlers.push(http.all(`${base}/*`, ({ request }) => route(request, null, {})));
  return handlers;
}

/**
 * Creates an in-memory Knify API that obeys the spec: it validates requests, enforces keys, permissions
 * and workspace scope as the spec says, keeps state, and checks every response it sends against the spec.
 *
 * @example
 * import { setupServer } from "msw/node";
 * import { createKnifyMock } from "@knify/sdk/testing";
 *
 * const mock = createKnifyMock();
 * const server = setupServer(...mock.handlers);
 * server.listen({ onUnhandledRequest: "error" });
 * const { api_key } = mock.state.createKey({ permissions: ["jobs:create", "jobs:read"] });
 * // ...point your code at https://api.knify.io with api_key
 */
export function createKnifyMock(options: KnifyMockOptions = {}): KnifyMock {
  const permissionEnum = (componentSchemas(spec).Permission as { enum?: Permission[] } | undefined)?.enum ?? [];
  const state = new MockState({
    now: options.now ?? (() => new Date()),
    jobDurationMs: options.jobDurationMs ?? 0,
    permissions: permissionEnum,
    allowPrivateWebhookUrls: options.allowPrivateWebhookUrls ?? false,
    maxKeysPerWorkspace: options.maxKeysPerWorkspace ?? 100,
  });
  const admin = state.createKey({
    name: "Mock admin key",
    permissions: ["admin:all"],
    ...(options.adminKey === undefined ? {} : { api_key: options.adminKey }),
  });
  const operations = readOperations(spec);
  const validateResponse = responseValidator(spec);
  const violations: string[] = [];
  const route = createRouter({
    operations,
    state,
    handlers: HANDLERS,
    validators: requestValidators(spec),
    validateResponse,
    onViolation: (message) => violations.push(message),
  });
  const base = (options.baseURL ?? "https://api.knify.io").replace(/\/+$/, "");
  return {
    handlers: mswHandlers(base, [...new Set(operations.map((op) => op.path))], route),
    state,
    adminKey: admin.api_key,
    spec,
    validateResponse,
    violations,
  };
}
