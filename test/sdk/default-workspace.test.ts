import { KnifyClient, KnifyError } from "@knify/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";
import { json, scriptedFetch, testOptions } from "./support/scripted-fetch.js";

// KNIFY_WORKSPACE_ID, named in the `.env` block of Knify's authentication guide, is the default workspace of
// every operation that takes a workspace_id; an explicit argument wins (issue 8, item 8).
afterEach(() => {
  vi.unstubAllEnvs();
});

const workspace = { workspace_id: "ws_env", name: "p", path: "/workspaces/p" };
const bodyOf = (seen: { body: string }[], index: number) => JSON.parse(seen[index]?.body ?? "{}");

describe("KNIFY_WORKSPACE_ID", () => {
  it("fills workspace_id of keys.create and webhookEndpoints.create unless the call names one", async () => {
    vi.stubEnv("KNIFY_WORKSPACE_ID", "ws_env");
    const { fetch, seen } = scriptedFetch(json({}), json({}), json({}), json({}));
    const client = new KnifyClient(testOptions(fetch));
    await client.keys.create({ name: "k" });
    await client.keys.create({ name: "k", workspace_id: "ws_explicit" });
    await client.webhookEndpoints.create({ url: "https://hooks.example.com/k" });
    await client.webhookEndpoints.create({ url: "https://hooks.example.com/k", workspace_id: "ws_explicit" });
    expect(seen.map((_, i) => bodyOf(seen, i).workspace_id)).toEqual([
      "ws_env",
      "ws_explicit",
      "ws_env",
      "ws_explicit",
    ]);
  });

  it("is the workspace of workspaces.get, replace and delete when no id is given", async () => {
    vi.stubEnv("KNIFY_WORKSPACE_ID", "ws_env");
    const { fetch, seen } = scriptedFetch(
      json(workspace),
      json(workspace),
      json(workspace),
      new Response(null, { status: 204 }),
      json(workspace),
    );
    const client = new KnifyClient(testOptions(fetch));
    await client.workspaces.get();
    await client.workspaces.get("ws_other");
    await client.workspaces.replace({ data: new Uint8Array([0x1f, 0x8b]) });
    await client.workspaces.delete();
    await client.workspaces.replace("ws_other", { data: new Uint8Array([0x1f, 0x8b]) });
    expect(seen.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      "GET /workspaces/ws_env",
      "GET /workspaces/ws_other",
      "PUT /workspaces/ws_env",
      "DELETE /workspaces/ws_env",
      "PUT /workspaces/ws_other",
    ]);
  });

  it("loses to the workspaceId option, and a malformed one fails at construction", () => {
    vi.stubEnv("KNIFY_WORKSPACE_ID", "abc123");
    expect(() => new KnifyClient(testOptions(scriptedFetch().fetch))).toThrow(/KNIFY_WORKSPACE_ID.*ws_abc123/);
    expect(() => new KnifyClient(testOptions(scriptedFetch().fetch, { workspaceId: "ws_option" }))).not.toThrow();
  });

  it("without a default, a call that needs a workspace says how to give one, and nothing is sent", async () => {
    vi.stubEnv("KNIFY_WORKSPACE_ID", "");
    const { fetch, seen } = scriptedFetch(json({}));
    const client = new KnifyClient(testOptions(fetch));
    const error = await client.workspaces.get().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KnifyError);
    expect((error as Error).message).toContain("KNIFY_WORKSPACE_ID");
    expect(seen).toHaveLength(0);
    await client.keys.create({ name: "unscoped" });
    expect(bodyOf(seen, 0)).toEqual({ name: "unscoped" });
  });
});
