import { KnifyClient, KnifyError, PagePromise } from "@knify/sdk";
import { describe, expect, it } from "vitest";
import { job, json, scriptedFetch, testOptions } from "./support/scripted-fetch.js";

const next = (url: string) => ({ link: `<${url}>; rel="next"` });
const jobs = (...ids: string[]) => ids.map((id) => job("completed", { id }));

/** Three pages of jobs chained by Link headers, as the server sends them. */
function threePages() {
  return scriptedFetch(
    json(jobs("job_1", "job_2"), 200, next("https://api.test/jobs?limit=2&cursor=c2")),
    json(jobs("job_3", "job_4"), 200, next("https://api.test/jobs?limit=2&cursor=c3")),
    json(jobs("job_5")),
  );
}

describe("jobs.list pagination", () => {
  it("awaits to the first page only, as a bare array", async () => {
    const { fetch, seen } = threePages();
    const client = new KnifyClient(testOptions(fetch));
    const page = await client.jobs.list({ limit: 2 });
    expect(page.map((j) => j.id)).toEqual(["job_1", "job_2"]);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.url.search).toBe("?limit=2");
  });

  it("iterates every item of three pages by following Link: rel=next", async () => {
    const { fetch, seen } = threePages();
    const client = new KnifyClient(testOptions(fetch));
    const ids: string[] = [];
    for await (const j of client.jobs.list({ limit: 2 })) ids.push(j.id);
    expect(ids).toEqual(["job_1", "job_2", "job_3", "job_4", "job_5"]);
    expect(seen.map((r) => `${r.url.pathname}${r.url.search}`)).toEqual([
      "/jobs?limit=2",
      "/jobs?limit=2&cursor=c2",
      "/jobs?limit=2&cursor=c3",
    ]);
    expect(seen.every((r) => r.headers.get("authorization")?.startsWith("Bearer "))).toBe(true);
  });

  it("yields pages with their responses and next URLs", async () => {
    const { fetch } = threePages();
    const client = new KnifyClient(testOptions(fetch));
    const pages = [];
    for await (const page of client.jobs.list({ limit: 2 }).pages()) pages.push(page);
    expect(pages.map((p) => p.data.length)).toEqual([2, 2, 1]);
    expect(pages.map((p) => p.nextURL?.searchParams.get("cursor"))).toEqual(["c2", "c3", undefined]);
    expect(pages[0]?.response.status).toBe(200);
  });

  it("stops early without fetching further pages", async () => {
    const { fetch, seen } = threePages();
    const client = new KnifyClient(testOptions(fetch));
    for await (const j of client.jobs.list({ limit: 2 })) if (j.id === "job_2") break;
    expect(seen).toHaveLength(1);
  });

  it("is a Promise and a PagePromise", () => {
    const { fetch } = scriptedFetch(json([]));
    const list = new KnifyClient(testOptions(fetch)).jobs.list();
    expect(list).toBeInstanceOf(Promise);
    expect(list).toBeInstanceOf(PagePromise);
    return list;
  });

  it("keeps a base URL's path prefix when following links", async () => {
    const { fetch, seen } = scriptedFetch(
      json(jobs("job_1"), 200, next("https://api.test/v1/jobs?cursor=c2")),
      json(jobs("job_2")),
    );
    const client = new KnifyClient(testOptions(fetch, { baseURL: "https://api.test/v1/" }));
    const ids: string[] = [];
    for await (const j of client.jobs.list()) ids.push(j.id);
    expect(ids).toEqual(["job_1", "job_2"]);
    expect(seen.map((r) => r.url.href)).toEqual(["https://api.test/v1/jobs", "https://api.test/v1/jobs?cursor=c2"]);
  });

  it("finds rel=next among several links and in a rel list", async () => {
    const { fetch, seen } = scriptedFetch(
      json(jobs("job_1"), 200, {
        link: '<https://api.test/jobs?cursor=first>; rel="first", <https://api.test/jobs?cursor=c2>; rel="next last"',
      }),
      json(jobs("job_2"), 200, { link: "</jobs?cursor=c3>; rel=next" }),
      json(jobs("job_3")),
    );
    const client = new KnifyClient(testOptions(fetch));
    const ids: string[] = [];
    for await (const j of client.jobs.list()) ids.push(j.id);
    expect(ids).toEqual(["job_1", "job_2", "job_3"]);
    expect(seen[2]?.url.href).toBe("https://api.test/jobs?cursor=c3");
  });

  it("refuses to send the key to another origin named in a Link", async () => {
    const { fetch, seen } = scriptedFetch(json(jobs("job_1"), 200, next("https://evil.example/jobs?cursor=c2")));
    const client = new KnifyClient(testOptions(fetch));
    const ids: string[] = [];
    const iterate = async () => {
      for await (const j of client.jobs.list()) ids.push(j.id);
    };
    await expect(iterate()).rejects.toThrow(/Refusing to follow a pagination link to https:\/\/evil\.example/);
    expect(ids).toEqual(["job_1"]);
    expect(seen).toHaveLength(1);
  });

  it("stops a server that links a page to itself", async () => {
    const { fetch } = scriptedFetch(
      json(jobs("job_1"), 200, next("https://api.test/jobs?cursor=same")),
      json(jobs("job_2"), 200, next("https://api.test/jobs?cursor=same")),
    );
    const client = new KnifyClient(testOptions(fetch));
    const iterate = async () => {
      for await (const _ of client.jobs.list());
    };
    await expect(iterate()).rejects.toBeInstanceOf(KnifyError);
  });
});

describe("other lists page the same way", () => {
  it("jobs.events follows links under the job's path", async () => {
    const event = (seq: number) => ({
      seq,
      job_id: "job_1",
      type: "output",
      created_at: "2025-11-17T10:00:00Z",
      data: {},
    });
    const { fetch, seen } = scriptedFetch(
      json([event(1), event(2)], 200, next("https://api.test/jobs/job_1/events?after=2&limit=2")),
      json([event(3)]),
    );
    const client = new KnifyClient(testOptions(fetch));
    const seqs: number[] = [];
    for await (const e of client.jobs.events("job_1", { limit: 2 })) seqs.push(e.seq);
    expect(seqs).toEqual([1, 2, 3]);
    expect(seen[1]?.url.pathname).toBe("/jobs/job_1/events");
    expect(seen[1]?.url.searchParams.get("after")).toBe("2");
  });

  it("webhookEndpoints.deliveries pages too", async () => {
    const delivery = (id: string) => ({ id, endpoint_id: "we_1" });
    const { fetch } = scriptedFetch(
      json([delivery("dlv_1")], 200, next("https://api.test/webhook-endpoints/we_1/deliveries?cursor=c2")),
      json([delivery("dlv_2")]),
    );
    const client = new KnifyClient(testOptions(fetch));
    const ids: string[] = [];
    for await (const d of client.webhookEndpoints.deliveries("we_1")) ids.push(d.id);
    expect(ids).toEqual(["dlv_1", "dlv_2"]);
  });
});
