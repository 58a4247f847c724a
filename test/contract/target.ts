import { KnifyClient } from "@knify/sdk";
import { responseValidator } from "@knify/sdk/testing";
import spec from "../../sdk/src/generated/spec.json" with { type: "json" };
import { operationOf } from "../support/operation.js";

const validate = responseValidator(spec as never);

/** Where the contract scenarios run: the SDK over the spec-driven mock, or the SDK against the real server. */
export interface ContractTarget {
  name: "mock" | "server";
  baseURL: string;
  /** An admin:all key without a workspace. */
  adminKey: string;
  /** An admin:all `knify_test_` key without a workspace: only a test key may make test keys. */
  testAdminKey: string;
  /** Every response that did not match the spec for its operation and status (checked on the client side). */
  violations: string[];
  /** A client whose every response is validated against the spec. */
  client(apiKey: string): KnifyClient;
  /**
   * Makes a key straight in the target's store, as the CLI does (so it may be expired already): for the
   * security cases, which need keys no API call can make.
   */
  seedKey(input?: SeedKeyInput): Promise<{ id: string; apiKey: string }>;
  /** Whether webhook URLs on loopback are accepted (the server runs with KNIFY_WEBHOOK_ALLOW_PRIVATE=1). */
  readonly privateWebhooks: true;
}

/** A key made in a target's store: its workspace, permissions and expiry (epoch ms). */
export interface SeedKeyInput {
  workspaceId?: string;
  permissions?: Permission[];
  expiresAt?: number;
}

type Permission = NonNullable<Parameters<KnifyClient["keys"]["create"]>[0]["permissions"]>[number];

/**
 * A fetch that checks every response against the spec: the documented status, content type and body
 * schema of its operation (problem+json shape for requests the spec has no operation for).
 */
export function validatingFetch(baseURL: string, violations: string[]): typeof fetch {
  const base = new URL(baseURL);
  return async (input, init) => {
    const request = new Request(input, init);
    const response = await globalThis.fetch(request);
    const url = new URL(request.url);
    const pathname = url.pathname.slice(base.pathname.replace(/\/$/, "").length) || "/";
    const contentType = response.headers.get("content-type") ?? "";
    const where = `${request.method} ${pathname} → ${response.status}`;
    if (!response.headers.get("x-request-id")) violations.push(`${where}: no X-Request-Id`);
    if (contentType.startsWith("text/event-stream")) return response;
    const text = await response.clone().text();
    const body = text && /json/.test(contentType) ? JSON.parse(text) : text || undefined;
    const operationId = operationOf(request.method, pathname);
    if (operationId) {
      for (const problem of validate(operationId, response.status, body, contentType || undefined)) {
        violations.push(`${where}: ${problem}`);
      }
    } else if (!contentType.startsWith("application/problem+json") || typeof body?.code !== "string") {
      violations.push(`${where}: an unknown path or method must answer problem+json`);
    }
    return response;
  };
}

/** A client for a target, validating every response. */
export function validatingClient(baseURL: string, apiKey: string, violations: string[]): KnifyClient {
  return new KnifyClient(apiKey, {
    baseURL,
    maxRetries: 0,
    fetch: validatingFetch(baseURL, violations),
    logLevel: "off",
  });
}
