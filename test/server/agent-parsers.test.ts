import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { adapterFor } from "../../server/src/jobs/agents/adapter.js";
import type { AgentJobEvent } from "../../server/src/jobs/agents/agent-events.js";
import { agentPrompt } from "../../server/src/jobs/agents/prompt.js";
import { redactor } from "../../server/src/jobs/agents/redact.js";
import type { JobSpec } from "../../server/src/store/jobs-repo.js";

// The stream-json parsers over the recorded transcripts in test/fixtures/agents (each CLI's documented format).

function play(jobType: JobSpec["job_type"], transcript: string): { events: AgentJobEvent[]; sessions: string[] } {
  const adapter = adapterFor(jobType);
  const parser = adapter.parser();
  const text = readFileSync(new URL(`../fixtures/agents/${adapter.name}/${transcript}.jsonl`, import.meta.url), "utf8");
  const events: AgentJobEvent[] = [];
  const sessions = new Set<string>();
  for (const parsed of [
    ...text
      .split("\n")
      .filter(Boolean)
      .map((line) => parser.line(line)),
    parser.end(),
  ]) {
    events.push(...parsed.events);
    if (parsed.sessionId) sessions.add(parsed.sessionId);
  }
  return { events, sessions: [...sessions] };
}

function ofType<T extends AgentJobEvent["type"]>(events: AgentJobEvent[], type: T) {
  return events.filter((e) => e.type === type).map((e) => e.data as Extract<AgentJobEvent, { type: T }>["data"]);
}

describe("the Cursor parser", () => {
  it("turns a turn into messages, started and ended tool calls, and a result with durations", () => {
    const { events, sessions } = play("cursor_task", "turn");
    expect(sessions).toEqual(["c6b62c6f-7ead-4fd6-9922-e952131177ff"]);
    expect(events.map((e) => e.type)).toEqual([
      "agent.message",
      "agent.tool_call",
      "agent.tool_call",
      "agent.tool_call",
      "agent.tool_call",
      "agent.message",
      "agent.result",
    ]);
    expect(ofType(events, "agent.message").map((m) => m.text)).toEqual([
      "I'll read the package manifest first.",
      "I added README.md: it names the demo package and says what it is for.",
    ]);
    expect(ofType(events, "agent.tool_call")[0]).toEqual({
      agent: "cursor",
      call_id: "toolu_vrtx_01",
      name: "readToolCall",
      input: '{"path":"package.json"}',
      status: "started",
    });
    expect(ofType(events, "agent.tool_call")[3]).toMatchObject({ name: "writeToolCall", status: "success" });
    expect(ofType(events, "agent.result")[0]).toEqual({
      agent: "cursor",
      text: "I'll read the package manifest first.I added README.md: it names the demo package and says what it is for.",
      is_error: false,
      session_id: "c6b62c6f-7ead-4fd6-9922-e952131177ff",
      usage: { duration_ms: 5234, duration_api_ms: 5234 },
    });
  });

  it("reports a failed tool call as status error with its message", () => {
    const calls = ofType(play("cursor_task", "resume").events, "agent.tool_call");
    expect(calls[1]).toMatchObject({ name: "editToolCall", status: "error" });
    expect(calls[1]?.output).toContain("old_string not found");
  });

  it("keeps a line it cannot read as agent.output", () => {
    const parser = adapterFor("cursor_task").parser();
    expect(parser.line("Warning: update available").events).toEqual([
      { type: "agent.output", data: { agent: "cursor", line: "Warning: update available" } },
    ]);
    expect(parser.line('{"type":"thinking","subtype":"delta","text":"hm"}').events[0]?.type).toBe("agent.output");
  });
});

describe("the Claude Code parser", () => {
  it("pairs tool_use and tool_result by id, and reads cost and tokens from the result", () => {
    const { events, sessions } = play("claude_task", "turn");
    expect(sessions).toEqual(["8f2b7f4e-3c1d-4a5b-9e6f-0a1b2c3d4e5f"]);
    const calls = ofType(events, "agent.tool_call");
    expect(calls.map((c) => [c.call_id, c.name, c.status])).toEqual([
      ["toolu_01QxR", "Read", "started"],
      ["toolu_01QxR", "Read", "success"],
      ["toolu_01WrT", "Write", "started"],
      ["toolu_01WrT", "Write", "success"],
    ]);
    expect(calls[0]?.input).toBe('{"file_path":"/workspace/package.json"}');
    expect(ofType(events, "agent.result")[0]).toEqual({
      agent: "claude",
      text: "I added README.md: it names the demo package and says what it is for.",
      is_error: false,
      session_id: "8f2b7f4e-3c1d-4a5b-9e6f-0a1b2c3d4e5f",
      usage: {
        input_tokens: 12,
        output_tokens: 311,
        cache_read_tokens: 35586,
        cache_write_tokens: 1520,
        total_tokens: 323,
        cost_usd: 0.0421,
        duration_ms: 9120,
        duration_api_ms: 8833,
        num_turns: 5,
      },
    });
  });

  it("marks a refused tool as an error and an is_error result as an error", () => {
    expect(ofType(play("claude_task", "resume").events, "agent.tool_call")[1]).toMatchObject({
      name: "Bash",
      status: "error",
    });
    expect(ofType(play("claude_task", "error").events, "agent.result")[0]).toMatchObject({
      is_error: true,
      text: "Invalid API key · Fix external API key",
    });
  });

  it("reads an error subtype's errors when it has no result text", () => {
    const parser = adapterFor("claude_task").parser();
    const { events } = parser.line(
      '{"type":"result","subtype":"error_max_turns","is_error":false,"errors":["Reached maximum number of turns (3)"],"session_id":"s"}',
    );
    expect(events[0]).toMatchObject({ data: { is_error: true, text: "Reached maximum number of turns (3)" } });
  });
});

describe("the Gemini CLI parser", () => {
  it("joins message chunks into one message per reply and takes the turn's text as the result", () => {
    const { events, sessions } = play("gemini_task", "turn");
    expect(sessions).toEqual(["3f0e8a52-6c4e-4b8e-a3c1-1e2d3c4b5a69"]);
    expect(events.map((e) => e.type)).toEqual([
      "agent.message",
      "agent.tool_call",
      "agent.tool_call",
      "agent.tool_call",
      "agent.tool_call",
      "agent.output",
      "agent.message",
      "agent.result",
    ]);
    expect(ofType(events, "agent.message").map((m) => m.text)).toEqual([
      "I'll read the package manifest first.",
      "I added README.md: it names the demo package and says what it is for.",
    ]);
    expect(ofType(events, "agent.tool_call")[1]).toMatchObject({ name: "read_file", status: "success" });
    expect(ofType(events, "agent.result")[0]).toEqual({
      agent: "gemini",
      text: "I'll read the package manifest first.\n\nI added README.md: it names the demo package and says what it is for.",
      is_error: false,
      usage: {
        input_tokens: 8790,
        output_tokens: 330,
        cache_read_tokens: 4096,
        total_tokens: 9120,
        duration_ms: 5192,
        tool_calls: 2,
      },
    });
  });

  it("takes an error result's message and a failed tool's error", () => {
    expect(ofType(play("gemini_task", "error").events, "agent.result")[0]).toMatchObject({
      is_error: true,
      text: "API key not valid. Please pass a valid API key.",
    });
    expect(ofType(play("gemini_task", "resume").events, "agent.tool_call")[1]).toMatchObject({
      name: "replace",
      status: "error",
      output: "Failed to edit, could not find the string to replace.",
    });
  });

  it("flushes a reply that the stream ends in the middle of", () => {
    const parser = adapterFor("gemini_task").parser();
    parser.line('{"type":"message","role":"assistant","content":"half a","delta":true}');
    expect(parser.end().events).toEqual([{ type: "agent.message", data: { agent: "gemini", text: "half a" } }]);
  });
});

describe("the agents' arguments", () => {
  const turn = { prompt: "--help me", model: "auto", resumeSessionId: null };

  it("passes the prompt as one argument that no CLI can read as an option", () => {
    expect(adapterFor("cursor_task").args(turn)).toEqual({
      args: ["-p", "--force", "--output-format", "stream-json", "--", "--help me"],
    });
    expect(adapterFor("claude_task").args(turn)).toEqual({
      args: [
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "acceptEdits",
        "--",
        "--help me",
      ],
    });
    expect(adapterFor("gemini_task").args(turn)).toEqual({
      args: ["--output-format", "stream-json", "--approval-mode", "auto_edit", "--prompt=--help me"],
    });
  });

  it("names the model and the session to resume", () => {
    const next = { prompt: "go", model: "sonnet-4.5", resumeSessionId: "abc" };
    expect(adapterFor("cursor_task").args(next)).toMatchObject({
      args: expect.arrayContaining(["--model", "sonnet-4.5", "--resume", "abc"]),
    });
    expect(adapterFor("claude_task").args(next)).toMatchObject({
      args: expect.arrayContaining(["--model", "claude-sonnet-4-5", "--resume", "abc"]),
    });
    expect(adapterFor("gemini_task").args({ ...next, model: "auto" })).toMatchObject({
      args: expect.arrayContaining(["--resume", "abc"]),
    });
  });

  it("refuses a model the agent does not have", () => {
    expect(adapterFor("claude_task").args({ ...turn, model: "gpt-5" })).toEqual({
      unsupportedModel: "gpt-5",
      supported: ["auto", "sonnet-4.5", "opus-4.1"],
    });
    expect(adapterFor("gemini_task").args({ ...turn, model: "sonnet-4.5" })).toMatchObject({ supported: ["auto"] });
  });
});

describe("agentPrompt", () => {
  it("builds fh_e2e_tools' and user_exam's first prompt from the spec's templates, once", () => {
    expect(agentPrompt({ turns: 1, spec: { job_type: "fh_e2e_tools", prompt: "Create a test user {user_id}" } })).toBe(
      "You are running end-to-end test tooling in the workspace at the current directory. Follow the workspace's runbooks and scripts to do this task, then report what you did and the outcome:\nCreate a test user {user_id}",
    );
    const exam = agentPrompt({
      turns: 1,
      spec: {
        job_type: "user_exam",
        user_id: "u_42",
        time_range: { from: "2025-11-01T00:00:00Z", to: "2025-11-08T00:00:00Z" },
      },
    });
    expect(exam).toMatch(/^Examine the activity of user u_42 from 2025-11-01T00:00:00Z to 2025-11-08T00:00:00Z /);
  });

  it("passes a task's prompt, and every continued turn's, unchanged", () => {
    expect(agentPrompt({ turns: 1, spec: { job_type: "claude_task", prompt: "Fix it" } })).toBe("Fix it");
    expect(agentPrompt({ turns: 2, spec: { job_type: "user_exam", prompt: "And the week after?" } })).toBe(
      "And the week after?",
    );
  });
});

describe("redactor", () => {
  it("blanks the agent's own credential and anything shaped like a key", () => {
    const redact = redactor(["my-very-own-secret-1234"]);
    expect(redact("rejected my-very-own-secret-1234 (401)")).toBe("rejected [redacted] (401)");
    expect(redact("key sk-ant-api03-abcdefghijklmnop was refused")).toBe("key [redacted] was refused");
    expect(redact("ANTHROPIC_API_KEY=abc123456789 is wrong")).toBe("ANTHROPIC_API_KEY=[redacted] is wrong");
    expect(redact("Authorization: Bearer abcdefgh12345678")).toBe("Authorization: Bearer [redacted]");
    expect(redact("model unavailable")).toBe("model unavailable");
  });
});
