import { describe, expect, it } from "vitest";
import type { Core } from "../../server/src/http/core.js";
import { fetchHandler } from "../../server/src/http/fetch-adapter.js";
import { ProblemError } from "../../server/src/http/problem.js";
import type { CoreRequest, CoreResponse } from "../../server/src/http/request.js";

// Issue 17, from the mutation run of server/src/http/fetch-adapter.ts (the `http-web` group): the web adapter
// that @knify/sdk/testing puts the core behind. The contract suites drive it through msw end to end; here each
// translation it makes between a fetch Request/Response and the core's plain ones is checked on its own, with
// a core that records what it was given and answers as told.

const answer = (response: Partial<CoreResponse> = {}): CoreResponse => ({
  status: 200,
  headers: { "content-type": "application/json" },
  body: "{}",
  log: { requestId: "req_test" },
  ...response,
});

/** A core that records the requests it gets and lets the test read their bodies. */
function recordingCore(respond: (request: CoreRequest) => Promise<CoreResponse> | CoreResponse = () => answer()) {
  const seen: CoreRequest[] = [];
  const core: Core = async (request) => {
    seen.push(request);
    return respond(request);
  };
  return { core, seen };
}

describe("the fetch adapter", () => {
  it("strips the base path (trailing slashes too), keeps other paths, and passes the query without its ?", async () => {
    const { core, seen } = recordingCore();
    const handle = fetchHandler(core, "/v1//");
    await handle(new Request("https://api.example.com/v1/jobs?status=running&limit=2"));
    await handle(new Request("https://api.example.com/v1"));
    await handle(new Request("https://api.example.com/other/path?x=%3F"));
    expect(seen.map((r) => [r.path, r.search])).toEqual([
      ["/jobs", "status=running&limit=2"],
      ["/", ""],
      ["/other/path", "x=%3F"],
    ]);
    expect(seen[0]?.forwardedOrigin).toBeNull();
  });

  it("counts an Authorization header once and passes every header by its lower-case name", async () => {
    const { core, seen } = recordingCore();
    const handle = fetchHandler(core);
    await handle(new Request("https://x.test/", { headers: { Authorization: "Bearer k", "X-Custom": "1" } }));
    await handle(new Request("https://x.test/"));
    expect(seen.map((r) => r.authorizationCount)).toEqual([1, 0]);
    expect(seen[0]?.headers).toMatchObject({ authorization: "Bearer k", "x-custom": "1" });
  });

  it("reads a body whole up to its limit, refuses one byte more with 413's problem, and says when it is complete", async () => {
    const reads: Array<{ completeBefore: boolean; completeAfter: boolean; bytes?: number; error?: unknown }> = [];
    const { core } = recordingCore(async (request) => {
      const completeBefore = request.body.complete;
      try {
        const bytes = await request.body.read(5, 1000);
        reads.push({ completeBefore, completeAfter: request.body.complete, bytes: bytes.byteLength });
      } catch (error) {
        reads.push({ completeBefore, completeAfter: request.body.complete, error });
      }
      return answer();
    });
    const handle = fetchHandler(core);
    await handle(new Request("https://x.test/", { method: "POST", body: "12345" }));
    await handle(new Request("https://x.test/", { method: "POST", body: "123456" }));
    await handle(new Request("https://x.test/"));
    expect(reads[0]).toEqual({ completeBefore: false, completeAfter: true, bytes: 5 });
    expect(reads[1]?.error).toBeInstanceOf(ProblemError);
    expect(reads[1]?.error).toMatchObject({ code: "payload_too_large" });
    expect(reads[1]?.error).toHaveProperty("message", "The body is over the limit of 5 bytes.");
    expect(reads[2]).toEqual({ completeBefore: true, completeAfter: true, bytes: 0 });
  });

  it("hands the body over as a stream that yields its bytes", async () => {
    const chunks: number[] = [];
    const { core } = recordingCore(async (request) => {
      for await (const chunk of request.body.stream()) chunks.push(...chunk);
      return answer({ body: String(request.body.complete) });
    });
    const response = await fetchHandler(core)(new Request("https://x.test/", { method: "POST", body: "abc" }));
    expect(String.fromCharCode(...chunks)).toBe("abc");
    expect(await response.text()).toBe("true");
  });

  it("sends no body with a 204 or 304, whatever the core said, and the status and headers as given", async () => {
    for (const status of [204, 304]) {
      const { core } = recordingCore(() => answer({ status, body: "not sent", headers: { etag: '"1"' } }));
      const response = await fetchHandler(core)(new Request("https://x.test/"));
      expect(response.status).toBe(status);
      expect(response.headers.get("etag")).toBe('"1"');
      expect(await response.text()).toBe("");
    }
    const { core } = recordingCore(() => answer({ status: 201, body: '{"ok":true}' }));
    expect(await (await fetchHandler(core)(new Request("https://x.test/"))).json()).toEqual({ ok: true });
  });

  it("streams an async iterable as the reader pulls it, and ends it when the reader cancels", async () => {
    let pulled = 0;
    let returned = false;
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        async next() {
          pulled++;
          return pulled > 3
            ? { done: true, value: undefined }
            : { done: false, value: new TextEncoder().encode(`${pulled};`) };
        },
        async return() {
          returned = true;
          return { done: true, value: undefined };
        },
      }),
    };
    const { core } = recordingCore(() => answer({ body, headers: { "content-type": "text/plain" } }));
    expect(await (await fetchHandler(core)(new Request("https://x.test/"))).text()).toBe("1;2;3;");

    pulled = 0;
    const response = await fetchHandler(core)(new Request("https://x.test/"));
    const reader = response.body?.getReader();
    expect(new TextDecoder().decode((await reader?.read())?.value)).toBe("1;");
    await reader?.cancel();
    expect(returned).toBe(true);
  });

  it("passes a web stream on as it is, so a reader's cancel reaches its source with the reason", async () => {
    let reason: unknown = "not cancelled";
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode("tick;"));
      },
      cancel(why) {
        reason = why;
      },
    });
    const { core } = recordingCore(() => answer({ body, headers: { "content-type": "text/event-stream" } }));
    const reader = (await fetchHandler(core)(new Request("https://x.test/"))).body?.getReader();
    expect(new TextDecoder().decode((await reader?.read())?.value)).toBe("tick;");
    await reader?.cancel("client went away");
    expect(reason).toBe("client went away");
  });

  it("cancels an async iterable that has no return() without an error", async () => {
    // A hand-written iterator need not have return(); Node's own Response would call it regardless and throw.
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        async next() {
          return { done: false, value: new TextEncoder().encode("x") };
        },
      }),
    };
    const { core } = recordingCore(() => answer({ body, headers: { "content-type": "text/plain" } }));
    const reader = (await fetchHandler(core)(new Request("https://x.test/"))).body?.getReader();
    expect((await reader?.read())?.done).toBe(false);
    await expect(reader?.cancel()).resolves.toBeUndefined();
  });

  it("lets go of the request's body once the core stops reading it, so its owner can still cancel the rest", async () => {
    const { core } = recordingCore(async (request) => {
      await request.body.read(2, 1000).catch(() => undefined);
      return answer({ status: 413 });
    });
    const request = new Request("https://x.test/", { method: "POST", body: "more than two bytes" });
    await fetchHandler(core)(request);
    expect(request.body?.locked).toBe(false);
    await expect(request.body?.cancel()).resolves.toBeUndefined();
  });
});
