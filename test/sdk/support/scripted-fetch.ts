import type { ClientOptions } from "@knify/sdk";

/** A request as the scripted fetch saw it, with its body read. */
export interface SeenRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
  request: Request;
  init: RequestInit | undefined;
}

/** What a script step returns: a response, or an error to throw (a connection failure). */
export type Step =
  | Response
  | Error
  | ((request: SeenRequest, signal: AbortSignal | undefined) => Response | Error | Promise<Response | Error>);

/**
 * A `fetch` that answers from a script, one step per call, and records every request. Running past the
 * end of the script fails the test loudly.
 */
export function scriptedFetch(...steps: Step[]) {
  const seen: SeenRequest[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const copy = request.clone();
    const body = request.body ? await copy.text() : "";
    const entry: SeenRequest = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body,
      request,
      init,
    };
    seen.push(entry);
    const step = steps[seen.length - 1];
    if (step === undefined)
      throw new Error(`scripted fetch: no step for call ${seen.length} (${request.method} ${request.url})`);
    const result = typeof step === "function" ? await step(entry, init?.signal ?? undefined) : step;
    if (result instanceof Error) throw result;
    return result;
  };
  return { fetch, seen };
}

/** A JSON response with the given status and headers. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": status >= 400 ? "application/problem+json" : "application/json", ...headers },
  });
}

/** A problem+json error response as the Knify server sends it. */
export function problem(
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return json(
    {
      type: `https://docs.knify.io/errors/${code}`,
      title: "Error",
      status,
      detail,
      code,
      request_id: "req_test123",
      ...extra,
    },
    status,
    { "x-request-id": "req_test123", ...headers },
  );
}

/** A fake clock whose time moves only when the fake sleep sleeps; `sleeps` records every wait. */
export function fakeTime(start = 1_700_000_000_000) {
  const sleeps: number[] = [];
  const clock = { now: () => time.now };
  const time = { now: start };
  const sleep = async (ms: number, signal?: AbortSignal) => {
    if (signal?.aborted) throw signal.reason;
    sleeps.push(ms);
    time.now += ms;
  };
  return { clock, sleep, sleeps, time };
}

/** Options for a client that talks to a scripted fetch with fake time and no jitter. */
export function testOptions(fetch: ClientOptions["fetch"], extra: ClientOptions = {}): ClientOptions {
  const { clock, sleep } = fakeTime();
  return {
    apiKey: TEST_KEY,
    baseURL: "https://api.test",
    fetch,
    clock,
    sleep,
    random: () => 0,
    logLevel: "off",
    ...extra,
  };
}

/** A key-shaped secret that tests check never leaks. */
export const TEST_KEY = "knify_test_SECRETsecretSECRETsecretSECRETse_abc123";

/** A job in the shape the API returns. */
export function job(status: string, extra: Record<string, unknown> = {}) {
  return {
    id: "job_1",
    workspace_id: null,
    spec: { job_type: "cursor_task", prompt: "Hello", model: "auto" },
    status,
    created_at: "2025-11-17T10:00:00Z",
    started_at: null,
    completed_at: null,
    sandbox_id: null,
    cursor_session_id: null,
    turns: 1,
    cleaned_up_at: null,
    ...extra,
  };
}
