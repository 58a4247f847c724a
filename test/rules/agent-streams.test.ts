import { describe, expect, it } from "vitest";
import { PROMPT_TEMPLATES } from "../../server/src/generated/constants.js";
import { adapterFor } from "../../server/src/jobs/agents/adapter.js";
import {
  type AgentJobEvent,
  count,
  MAX_SUMMARY_CHARS,
  MAX_TEXT_CHARS,
  summarize,
} from "../../server/src/jobs/agents/agent-events.js";
import { agentPrompt } from "../../server/src/jobs/agents/prompt.js";
import { redactor } from "../../server/src/jobs/agents/redact.js";
import type { JobSpec } from "../../server/src/store/jobs-repo.js";

// Issue 17, from the mutation run of server/src/jobs/agents (the `agents` group): what each CLI's stream-json
// lines become at their edges — lines that are not what the recorded transcripts hold, missing or odd fields,
// the size caps — and what the redaction blanks. test/server/agent-parsers.test.ts plays whole transcripts;
// these feed one line at a time.

type JobType = JobSpec["job_type"];

/** The events and session of each line fed to a fresh parser, then of its end. */
function feed(jobType: JobType, lines: Array<string | object>) {
  const parser = adapterFor(jobType).parser();
  const results = lines.map((line) => parser.line(typeof line === "string" ? line : JSON.stringify(line)));
  return { results, events: results.flatMap((r) => r.events), end: parser.end() };
}

const only = (jobType: JobType, line: string | object): AgentJobEvent[] => feed(jobType, [line]).events;
const dataOf = (jobType: JobType, line: string | object) => only(jobType, line)[0]?.data;

const outputOf = (agent: string, line: string | object) => [
  { type: "agent.output", data: { agent, line: typeof line === "string" ? line : JSON.stringify(line) } },
];

describe("every parser", () => {
  it("keeps a line that is not a JSON object with a string type as agent.output, word for word", () => {
    const cases: Array<string | object> = [
      "plain text",
      "",
      "[1,2]",
      '{"type":1}',
      '{"no_type":true}',
      "{not json",
      '  {"type":"novel_kind"}  ',
    ];
    for (const [jobType, agent] of [
      ["cursor_task", "cursor"],
      ["claude_task", "claude"],
      ["gemini_task", "gemini"],
    ] as const) {
      for (const line of cases) expect([line, only(jobType, line)]).toEqual([line, outputOf(agent, line)]);
    }
  });

  it("reads a JSON line with spaces around it", () => {
    expect(only("cursor_task", '   {"type":"user"}\t')).toEqual([]);
    expect(only("claude_task", ' {"type":"system","subtype":"init"}')).toEqual([]);
  });

  it("names the session only when the line carries one as a string", () => {
    const sessions = (jobType: JobType, lines: object[]) => feed(jobType, lines).results.map((r) => r.sessionId);
    const lines = [
      { type: "system", subtype: "init", session_id: "s-1" },
      { type: "system", subtype: "init", session_id: 7 },
      { type: "system", subtype: "init", session_id: "" },
      { type: "system", subtype: "init" },
    ];
    expect(sessions("cursor_task", lines)).toEqual(["s-1", undefined, undefined, undefined]);
    expect(sessions("claude_task", lines)).toEqual(["s-1", undefined, undefined, undefined]);
    expect(
      sessions("gemini_task", [
        { type: "init", session_id: "g-1" },
        { type: "init", session_id: 7 },
      ]),
    ).toEqual(["g-1", undefined]);
    expect(feed("cursor_task", [{ type: "system", subtype: "init" }]).results[0]).not.toHaveProperty("sessionId");
    expect(feed("gemini_task", [{ type: "init" }]).results[0]).not.toHaveProperty("sessionId");
  });
});

describe("the size caps", () => {
  it("keep a message of exactly the cap, and cut a longer one to the cap with …", () => {
    const exact = "a".repeat(MAX_TEXT_CHARS);
    const message = (text: string) => ({ type: "assistant", message: { content: [{ type: "text", text }] } });
    expect(dataOf("cursor_task", message(exact))).toEqual({ agent: "cursor", text: exact });
    const cutText = (dataOf("cursor_task", message(`${exact}b`)) as { text: string }).text;
    expect(cutText).toHaveLength(MAX_TEXT_CHARS);
    expect(cutText).toBe(`${"a".repeat(MAX_TEXT_CHARS - 1)}…`);
    expect((dataOf("claude_task", message(`${exact}b`)) as { text: string }).text).toBe(cutText);
    expect((dataOf("cursor_task", { type: "result", result: `${exact}b` }) as { text: string }).text).toBe(cutText);
    expect(MAX_TEXT_CHARS).toBe(65_536);
  });

  it("summarize a tool's input: a string as it is, anything else as JSON, each within its cap", () => {
    expect(MAX_SUMMARY_CHARS).toBe(1024);
    expect(summarize("ls -la")).toBe("ls -la");
    expect(summarize({ path: "a" })).toBe('{"path":"a"}');
    expect(summarize(42)).toBe("42");
    expect(summarize(undefined)).toBe("undefined");
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(summarize(circular)).toBe("[object Object]");
    expect(summarize("x".repeat(1024))).toBe("x".repeat(1024));
    expect(summarize("x".repeat(1025))).toBe(`${"x".repeat(1023)}…`);
    expect(summarize(["y".repeat(2000)])).toBe(`["${"y".repeat(1021)}…`);
  });

  it("count only non-negative finite numbers as usage, rounded", () => {
    expect([0, 3, 2.5, 2.4, -1, Number.NaN, Number.POSITIVE_INFINITY, "7", null].map(count)).toEqual([
      0,
      3,
      3,
      2,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe("the Cursor parser", () => {
  const call = (toolCall: unknown, extra: object = {}) => ({
    type: "tool_call",
    subtype: "completed",
    call_id: "c1",
    tool_call: toolCall,
    ...extra,
  });

  it("keeps a system line that is not init, drops the echoed prompt, and an assistant line without text", () => {
    expect(only("cursor_task", { type: "system", subtype: "warning" })).toEqual(
      outputOf("cursor", { type: "system", subtype: "warning" }),
    );
    expect(only("cursor_task", { type: "user", message: { content: "hi" } })).toEqual([]);
    expect(only("cursor_task", { type: "assistant", message: { content: [] } })).toEqual([]);
    expect(only("cursor_task", { type: "assistant", message: "text" })).toEqual([]);
    expect(only("cursor_task", { type: "assistant", message: { content: "plain" } })).toEqual([
      { type: "agent.message", data: { agent: "cursor", text: "plain" } },
    ]);
    expect(
      only("cursor_task", {
        type: "assistant",
        message: {
          content: [
            { type: "text", text: "a" },
            { type: "image" },
            { type: "thinking", text: "scratchpad" },
            null,
            { type: "text", text: 5 },
            "x",
            { type: "text", text: "b" },
          ],
        },
      }),
    ).toEqual([{ type: "agent.message", data: { agent: "cursor", text: "ab" } }]);
  });

  it("keeps a tool call it cannot read as agent.output", () => {
    for (const line of [
      call({ readToolCall: { args: {} } }, { call_id: undefined }),
      call({ readToolCall: { args: {} } }, { call_id: "" }),
      call("readToolCall"),
      call(["readToolCall"]),
      call({}),
      call({ readToolCall: "args" }),
    ]) {
      expect(only("cursor_task", line)).toEqual(outputOf("cursor", line));
    }
  });

  it("names an MCP tool by its function name, and reads its arguments", () => {
    expect(
      dataOf(
        "cursor_task",
        call({ function: { name: "search_docs", arguments: { q: "x" } }, other: {} }, { subtype: "started" }),
      ),
    ).toEqual({ agent: "cursor", call_id: "c1", name: "search_docs", input: '{"q":"x"}', status: "started" });
    expect(dataOf("cursor_task", call({ function: { name: 3, args: { q: "y" } } }, { subtype: "started" }))).toEqual({
      agent: "cursor",
      call_id: "c1",
      name: "function",
      input: "undefined",
      status: "started",
    });
    expect(
      dataOf(
        "cursor_task",
        call({ shellToolCall: { args: "ls", arguments: "no", name: "not-the-tool" } }, { subtype: "started" }),
      ),
    ).toMatchObject({
      name: "shellToolCall",
      input: "ls",
    });
  });

  it("treats any subtype but completed as started", () => {
    expect(dataOf("cursor_task", call({ readToolCall: { args: {} } }, { subtype: undefined }))).toMatchObject({
      status: "started",
    });
    expect(dataOf("cursor_task", call({ readToolCall: { args: {} } }, { subtype: "updated" }))).not.toHaveProperty(
      "output",
    );
  });

  it("reads a completed call's error, failure or rejection as an error, in that order, and anything else as success", () => {
    const ended = (result: unknown) => dataOf("cursor_task", call({ editToolCall: { args: {}, result } }));
    expect(ended({ error: { message: "no" }, failure: "f", success: "s" })).toMatchObject({
      status: "error",
      output: '{"message":"no"}',
    });
    expect(ended({ failure: "f", rejected: "r", success: "s" })).toMatchObject({ status: "error", output: "f" });
    expect(ended({ failure: "f", success: "s" })).toEqual({
      agent: "cursor",
      call_id: "c1",
      name: "editToolCall",
      input: "{}",
      status: "error",
      output: "f",
    });
    expect(ended({ rejected: "r", success: "s" })).toMatchObject({ status: "error", output: "r" });
    expect(ended({ success: "s" })).toMatchObject({ status: "success", output: "s" });
    expect(ended({ other: 1 })).toMatchObject({ status: "success", output: '{"other":1}' });
    expect(ended(null)).toMatchObject({ status: "success", output: "{}" });
    expect(ended("done")).toMatchObject({ status: "success", output: "{}" });
  });

  it("reads a result's error state, text and usage, leaving out what the CLI did not report", () => {
    expect(dataOf("cursor_task", { type: "result", subtype: "success", is_error: false })).toEqual({
      agent: "cursor",
      is_error: false,
      usage: {},
    });
    expect(dataOf("cursor_task", { type: "result", subtype: "error_max_turns" })).toMatchObject({ is_error: true });
    expect(dataOf("cursor_task", { type: "result", is_error: true, subtype: "success" })).toMatchObject({
      is_error: true,
    });
    expect(dataOf("cursor_task", { type: "result", is_error: "yes", subtype: 1 })).toMatchObject({ is_error: false });
    expect(dataOf("cursor_task", { type: "result", result: 5 })).not.toHaveProperty("text");
    expect(
      dataOf("cursor_task", {
        type: "result",
        result: "done",
        session_id: "s",
        duration_ms: 10,
        duration_api_ms: 9,
        usage: { inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheWriteTokens: 4 },
      }),
    ).toEqual({
      agent: "cursor",
      text: "done",
      is_error: false,
      session_id: "s",
      usage: {
        input_tokens: 1,
        output_tokens: 2,
        cache_read_tokens: 3,
        cache_write_tokens: 4,
        duration_ms: 10,
        duration_api_ms: 9,
      },
    });
    expect(dataOf("cursor_task", { type: "result", usage: { input_tokens: 5, output_tokens: 6 } })).toMatchObject({
      usage: { input_tokens: 5, output_tokens: 6 },
    });
    expect(dataOf("cursor_task", { type: "result", usage: "lots" })).toMatchObject({ usage: {} });
  });

  it("passes the model unless it is auto, and the session to resume", () => {
    expect(adapterFor("cursor_task").args({ prompt: "p", model: "gpt-5", resumeSessionId: "s" })).toEqual({
      args: ["-p", "--force", "--output-format", "stream-json", "--model", "gpt-5", "--resume", "s", "--", "p"],
    });
    expect(adapterFor("cursor_task").args({ prompt: "p", model: "auto", resumeSessionId: "" })).toEqual({
      args: ["-p", "--force", "--output-format", "stream-json", "--resume", "", "--", "p"],
    });
  });
});

describe("the Claude Code parser", () => {
  const assistant = (content: unknown) => ({ type: "assistant", message: { content } });
  const results = (content: unknown) => ({ type: "user", message: { content } });

  it("keeps a system line that is not init", () => {
    const line = { type: "system", subtype: "compact_boundary" };
    expect(only("claude_task", line)).toEqual(outputOf("claude", line));
  });

  it("reads text and tool_use blocks, skipping empty text, thinking, and tool uses without an id", () => {
    expect(
      only(
        "claude_task",
        assistant([
          { type: "text", text: "" },
          { type: "text", text: 3 },
          { type: "thinking", thinking: "hmm", id: "th1" },
          "stray",
          null,
          { type: "tool_use", id: 9, name: "Read", text: "not words" },
          { type: "tool_use", id: "t1" },
          { type: "text", text: "done" },
        ]),
      ),
    ).toEqual([
      {
        type: "agent.tool_call",
        data: { agent: "claude", call_id: "t1", name: "tool", input: "{}", status: "started" },
      },
      { type: "agent.message", data: { agent: "claude", text: "done" } },
    ]);
    expect(only("claude_task", assistant("just words"))).toEqual([
      { type: "agent.message", data: { agent: "claude", text: "just words" } },
    ]);
    expect(only("claude_task", assistant(undefined))).toEqual([]);
    expect(only("claude_task", { type: "assistant", message: "x" })).toEqual([]);
  });

  it("pairs a tool_result with its tool_use by id, and reads its content, error flag and unknown ids", () => {
    const { events } = feed("claude_task", [
      assistant([{ type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } }]),
      results([
        { type: "tool_result", tool_use_id: "t1", content: "a\nb", is_error: false },
        { type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "denied" }], is_error: true },
        { type: "tool_result", tool_use_id: "t2", is_error: "true" },
        { type: "tool_result", tool_use_id: 3, content: "skipped" },
        { type: "text", tool_use_id: "t1", content: "skipped" },
        "stray",
      ]),
      results("not blocks"),
      results({ type: "tool_result", tool_use_id: "t1" }),
    ]);
    expect(events.map((e) => e.data)).toEqual([
      { agent: "claude", call_id: "t1", name: "Bash", input: '{"command":"ls"}', status: "started" },
      { agent: "claude", call_id: "t1", name: "Bash", status: "success", output: "a\nb" },
      { agent: "claude", call_id: "t1", name: "Bash", status: "error", output: "denied" },
      { agent: "claude", call_id: "t2", name: "tool", status: "success", output: "" },
    ]);
  });

  it("reads a result's text, else its errors, and its usage with a total only when both counts are there", () => {
    expect(
      dataOf("claude_task", {
        type: "result",
        subtype: "error_during_execution",
        result: "",
        errors: ["first", 2, "second"],
        usage: { input_tokens: 4 },
        total_cost_usd: -1,
      }),
    ).toEqual({ agent: "claude", text: "first; second", is_error: true, usage: { input_tokens: 4 } });
    expect(dataOf("claude_task", { type: "result", subtype: "success", errors: "x" })).toEqual({
      agent: "claude",
      is_error: false,
      usage: {},
    });
    expect(
      dataOf("claude_task", { type: "result", result: "ok", errors: ["ignored"], total_cost_usd: 0 }),
    ).toMatchObject({
      text: "ok",
      usage: { cost_usd: 0 },
    });
    expect(dataOf("claude_task", { type: "result", subtype: 1, usage: { output_tokens: 2 } })).toEqual({
      agent: "claude",
      is_error: false,
      usage: { output_tokens: 2 },
    });
    expect(dataOf("claude_task", { type: "result", is_error: true, total_cost_usd: "1" })).toEqual({
      agent: "claude",
      is_error: true,
      usage: {},
    });
    expect(
      (dataOf("claude_task", { type: "result", result: "r".repeat(MAX_TEXT_CHARS + 1) }) as { text: string }).text,
    ).toHaveLength(MAX_TEXT_CHARS);
  });

  it("names Claude's own model, refuses another, and resumes a session", () => {
    const { args } = adapterFor("claude_task").args({ prompt: "p", model: "opus-4.1", resumeSessionId: "s" }) as {
      args: string[];
    };
    // The fixed options are pinned in agent-parsers.test.ts; here, what the model and the session add.
    const auto = adapterFor("claude_task").args({ prompt: "p", model: "auto", resumeSessionId: null });
    expect(args.slice(0, 6)).toEqual((auto as { args: string[] }).args.slice(0, 6));
    expect(args.slice(6)).toEqual(["--model", "claude-opus-4-1", "--resume", "s", "--", "p"]);
    expect(adapterFor("claude_task").args({ prompt: "p", model: "composer-1", resumeSessionId: null })).toEqual({
      unsupportedModel: "composer-1",
      supported: ["auto", "sonnet-4.5", "opus-4.1"],
    });
  });
});

describe("the Gemini CLI parser", () => {
  const chunk = (content: unknown) => ({ type: "message", role: "assistant", content, delta: true });

  it("joins a reply's chunks, and ends it at the next line of another kind, even one it cannot read", () => {
    const { results } = feed("gemini_task", [chunk("Hel"), chunk(5), chunk("lo"), "progress: 50%", chunk("again")]);
    expect(results.map((r) => r.events)).toEqual([
      [],
      [],
      [],
      [
        { type: "agent.message", data: { agent: "gemini", text: "Hello" } },
        { type: "agent.output", data: { agent: "gemini", line: "progress: 50%" } },
      ],
      [],
    ]);
  });

  it("drops the echoed prompt and init, and keeps an error line as output", () => {
    expect(only("gemini_task", { type: "message", role: "user", content: "the prompt" })).toEqual([]);
    expect(only("gemini_task", { type: "init", model: "gemini-2.5" })).toEqual([]);
    const error = { type: "error", severity: "warning", message: "retrying" };
    expect(only("gemini_task", error)).toEqual(outputOf("gemini", error));
  });

  it("reads tool uses and results, with defaults for what is missing", () => {
    const { events } = feed("gemini_task", [
      { type: "tool_use", tool_id: "g1", tool_name: "read_file", parameters: { path: "a" } },
      { type: "tool_result", tool_id: "g1", status: "success", output: "contents" },
      { type: "tool_use" },
      { type: "tool_result", status: "error", error: { message: "boom" }, output: "partial" },
      { type: "tool_result", tool_id: "g9", status: "error", error: "flat", output: "partial" },
      { type: "tool_result", tool_id: "g1", status: "success", error: { message: "ignored" } },
    ]);
    expect(events.map((e) => e.data)).toEqual([
      { agent: "gemini", call_id: "g1", name: "read_file", input: '{"path":"a"}', status: "started" },
      { agent: "gemini", call_id: "g1", name: "read_file", status: "success", output: "contents" },
      { agent: "gemini", call_id: "", name: "tool", input: "{}", status: "started" },
      { agent: "gemini", call_id: "", name: "tool", status: "error", output: "boom" },
      { agent: "gemini", call_id: "g9", name: "tool", status: "error", output: "partial" },
      { agent: "gemini", call_id: "g1", name: "read_file", status: "success", output: "" },
    ]);
  });

  it("takes the turn's replies as the result's text, or the error's message, or says the CLI failed", () => {
    const ok = feed("gemini_task", [
      chunk("one"),
      { type: "init" },
      chunk("two"),
      { type: "result", status: "success" },
    ]);
    expect(ok.events.at(-1)).toEqual({
      type: "agent.result",
      data: { agent: "gemini", text: "one\n\ntwo", is_error: false, usage: {} },
    });
    expect(dataOf("gemini_task", { type: "result", status: "success", stats: "none" })).toEqual({
      agent: "gemini",
      is_error: false,
      usage: {},
    });
    expect(dataOf("gemini_task", { type: "result", status: "error", error: { message: "quota" } })).toMatchObject({
      text: "quota",
      is_error: true,
    });
    expect(dataOf("gemini_task", { type: "result", status: "error", error: "quota" })).toMatchObject({
      text: "the Gemini CLI reported an error",
      is_error: true,
    });
    expect(dataOf("gemini_task", { type: "result", status: "success", error: { message: "no" } })).not.toHaveProperty(
      "text",
    );
  });

  it("ends with the reply still pending, and with nothing when none is", () => {
    const parser = adapterFor("gemini_task").parser();
    expect(parser.end()).toEqual({ events: [] });
    parser.line(JSON.stringify(chunk("tail")));
    expect(parser.end()).toEqual({ events: [{ type: "agent.message", data: { agent: "gemini", text: "tail" } }] });
    expect(parser.end()).toEqual({ events: [] });
  });

  it("runs only the CLI's own model, and resumes a session", () => {
    expect(adapterFor("gemini_task").args({ prompt: "-p", model: "auto", resumeSessionId: "s" })).toEqual({
      args: ["--output-format", "stream-json", "--approval-mode", "auto_edit", "--resume", "s", "--prompt=-p"],
    });
    expect(adapterFor("gemini_task").args({ prompt: "p", model: "gemini-2.5", resumeSessionId: null })).toEqual({
      unsupportedModel: "gemini-2.5",
      supported: ["auto"],
    });
  });
});

describe("the prompt", () => {
  it("is the task's prompt, or empty, for a job type without a template", () => {
    expect(agentPrompt({ turns: 1, spec: { job_type: "cursor_task" } })).toBe("");
    expect(agentPrompt({ turns: 3, spec: { job_type: "fh_e2e_tools" } })).toBe("");
  });

  it("fills a template's fields once, leaving absent ones empty and a value that looks like a field as it is", () => {
    const exam = agentPrompt({ turns: 1, spec: { job_type: "user_exam", user_id: "{prompt}" } });
    expect(exam).toBe(
      (PROMPT_TEMPLATES.user_exam ?? "")
        .replace("{user_id}", "{prompt}")
        .replace("{time_range.from}", "")
        .replace("{time_range.to}", ""),
    );
    expect(agentPrompt({ turns: 1, spec: { job_type: "fh_e2e_tools" } })).toMatch(/outcome:\n$/);
    expect(agentPrompt({ turns: 1, spec: { job_type: "user_exam" } })).toMatch(/^Examine the activity of user {2}from/);
    expect(exam).not.toMatch(/\{(user_id|time_range\.from|time_range\.to)\}/);
    expect(agentPrompt({ turns: 1, spec: { job_type: "fh_e2e_tools", prompt: "{user_id} and {nope}" } })).toMatch(
      /:\n\{user_id\} and \{nope\}$/,
    );
  });
});

/** Each text as the redaction (with no credential given) leaves it. */
function expectRedacted(cases: [string, string][]): void {
  const redact = redactor([]);
  expect(cases.map(([text]) => [text, redact(text)])).toEqual(cases);
}

describe("the redaction of agent output", () => {
  it("blanks the credentials it was given, longest first, from 8 characters on", () => {
    const redact = redactor(["short12", "abcdefgh", undefined, "abcdefgh-longer"]);
    expect(redact("x abcdefgh-longer y abcdefgh z short12")).toBe("x [redacted] y [redacted] z short12");
    expect(redactor([])("abcdefgh")).toBe("abcdefgh");
  });

  it("blanks anything shaped like a known key, whole", () => {
    expectRedacted([
      ["got sk-ant-abcd_EF-12 back", "got [redacted] back"],
      ["got sk-ant-abcdEF1 back", "got sk-ant-abcdEF1 back"],
      ["AIza01234567890123456789_-xy.", "[redacted]."],
      ["AIza0123456789012345678", "AIza0123456789012345678"],
      ["key_0123456789ABCDEF0123 used", "[redacted] used"],
      ["key_0123456789abcdef012", "key_0123456789abcdef012"],
      ["knify_live_abcd_1234 and knify_test_ABCDEFGH", "[redacted] and [redacted]"],
      ["knify_live_abc", "knify_live_abc"],
      ["xsk-ant-abcdefghij", "xsk-ant-abcdefghij"],
      ["Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [redacted]"],
      ["Bearer   a.b~c+d/e=f-g_h", "Bearer [redacted]"],
      ["Bearer short", "Bearer short"],
    ]);
  });

  it("blanks the value of a variable or field named like a secret, keeping its name", () => {
    expectRedacted([
      ['{"access_token": "abcdef123"}', '{"access_token": "[redacted]"}'],
      ["DB_PASSWORD=hunter22, next", "DB_PASSWORD=[redacted], next"],
      ["client-secret : 'zyxwvu'", "client-secret : '[redacted]'"],
      ["X_API-KEY=abcde", "X_API-KEY=abcde"],
      ["X_API-KEY=abcdef", "X_API-KEY=[redacted]"],
      ["my_api-key=abcdefgh;", "my_api-key=[redacted];"],
      ["GEMINI_APIKEY:qwertyu rest", "GEMINI_APIKEY:[redacted] rest"],
      ["SECRET_VALUE: abcdefgh", "SECRET_VALUE: [redacted]"],
      ["token=abcde", "token=abcde"],
      ["Token = 'ab cdefgh'", "Token = 'ab cdefgh'"],
      ["tokens used: 123456", "tokens used: 123456"],
    ]);
  });
});

describe("the Gemini CLI parser's replies", () => {
  it("are only message lines: another line that says role assistant is not part of one", () => {
    const { events, end } = feed("gemini_task", [{ type: "init", role: "assistant", content: "not a reply" }]);
    expect([...events, ...end.events]).toEqual([]);
  });
});
