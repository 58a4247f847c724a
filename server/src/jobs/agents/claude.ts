import type { AgentAdapter } from "./adapter.js";
import {
  type AgentJobEvent,
  compact,
  count,
  cut,
  isRecord,
  MAX_TEXT_CHARS,
  outputEvent,
  type Parsed,
  parseJsonLine,
  type StreamParser,
  str,
  summarize,
  textOf,
} from "./agent-events.js";

/** Knify's model names that Claude Code runs, as its `--model` takes them. */
const CLAUDE_MODELS: Record<string, string> = { "sonnet-4.5": "claude-sonnet-4-5", "opus-4.1": "claude-opus-4-1" };

/**
 * Claude Code: `claude -p --output-format stream-json --verbose --permission-mode acceptEdits [--model m]
 * [--resume id] -- <prompt>` (stream-json needs `--verbose` in print mode). `acceptEdits` lets it edit the
 * sandbox's files; commands it would have to ask for are refused, not hung on.
 */
export const claudeAdapter: AgentAdapter = {
  name: "claude",
  defaultBin: "claude",
  binVariable: "KNIFY_CLAUDE_BIN",
  credentials: ["ANTHROPIC_API_KEY"],
  args({ prompt, model, resumeSessionId }) {
    const args = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits"];
    if (model !== "auto") {
      const name = CLAUDE_MODELS[model];
      if (name === undefined) return { unsupportedModel: model, supported: ["auto", ...Object.keys(CLAUDE_MODELS)] };
      args.push("--model", name);
    }
    if (resumeSessionId !== null) args.push("--resume", resumeSessionId);
    // "--" ends the options: a prompt such as "--help" stays a prompt.
    args.push("--", prompt);
    return { args };
  },
  parser: () => new ClaudeParser(),
};

/**
 * Claude Code's stream-json (the Agent SDK's message types): `system`/`init` (session_id, model, tools),
 * `assistant` (an API message whose content holds `text` and `tool_use` blocks), `user` (the `tool_result`
 * blocks answering them), and a final `result` (subtype `success` or `error_*`, is_error, result, session_id,
 * duration_ms, duration_api_ms, num_turns, total_cost_usd, usage).
 */
class ClaudeParser implements StreamParser {
  /** Tool names by `tool_use` id, so a `tool_result` can say which tool ended. */
  private readonly tools = new Map<string, string>();

  line(line: string): Parsed {
    const event = parseJsonLine(line);
    if (!event) return { events: [outputEvent("claude", line)] };
    const sessionId = str(event.session_id);
    const parsed = (events: AgentJobEvent[]): Parsed => (sessionId ? { events, sessionId } : { events });
    const content = isRecord(event.message) ? event.message.content : undefined;
    switch (event.type) {
      case "system":
        return parsed(event.subtype === "init" ? [] : [outputEvent("claude", line)]);
      case "assistant":
        return parsed(this.assistant(content));
      case "user":
        return parsed(this.toolResults(content));
      case "result":
        return parsed([resultEvent(event, sessionId)]);
      default:
        return parsed([outputEvent("claude", line)]);
    }
  }

  end(): Parsed {
    return { events: [] };
  }

  private assistant(content: unknown): AgentJobEvent[] {
    if (!Array.isArray(content)) {
      const text = textOf(content);
      return text ? [{ type: "agent.message", data: { agent: "claude", text: cut(text, MAX_TEXT_CHARS) } }] : [];
    }
    const events: AgentJobEvent[] = [];
    for (const block of content) {
      if (!isRecord(block)) continue;
      if (block.type === "text" && typeof block.text === "string" && block.text !== "") {
        events.push({ type: "agent.message", data: { agent: "claude", text: cut(block.text, MAX_TEXT_CHARS) } });
      } else if (block.type === "tool_use" && typeof block.id === "string") {
        const name = str(block.name) ?? "tool";
        this.tools.set(block.id, name);
        events.push({
          type: "agent.tool_call",
          data: { agent: "claude", call_id: block.id, name, input: summarize(block.input ?? {}), status: "started" },
        });
      }
      // `thinking` blocks are the model's scratchpad, not its words: not kept.
    }
    return events;
  }

  private toolResults(content: unknown): AgentJobEvent[] {
    if (!Array.isArray(content)) return [];
    const events: AgentJobEvent[] = [];
    for (const block of content) {
      if (!isRecord(block) || block.type !== "tool_result" || typeof block.tool_use_id !== "string") continue;
      const output = typeof block.content === "string" ? block.content : textOf(block.content);
      events.push({
        type: "agent.tool_call",
        data: {
          agent: "claude",
          call_id: block.tool_use_id,
          name: this.tools.get(block.tool_use_id) ?? "tool",
          status: block.is_error === true ? "error" : "success",
          output: summarize(output),
        },
      });
    }
    return events;
  }
}

function resultEvent(event: Record<string, unknown>, sessionId: string | undefined): AgentJobEvent {
  const usage = isRecord(event.usage) ? event.usage : {};
  const errors = Array.isArray(event.errors) ? event.errors.filter((e) => typeof e === "string").join("; ") : "";
  // An error subtype (error_max_turns, error_during_execution) may carry no `result`; its `errors` say why.
  const text = typeof event.result === "string" && event.result !== "" ? event.result : errors || undefined;
  const input = count(usage.input_tokens);
  const output = count(usage.output_tokens);
  return {
    type: "agent.result",
    data: compact({
      agent: "claude" as const,
      text: text === undefined ? undefined : cut(text, MAX_TEXT_CHARS),
      is_error: event.is_error === true || (typeof event.subtype === "string" && event.subtype !== "success"),
      session_id: sessionId,
      usage: compact({
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: count(usage.cache_read_input_tokens),
        cache_write_tokens: count(usage.cache_creation_input_tokens),
        total_tokens: input !== undefined && output !== undefined ? input + output : undefined,
        cost_usd:
          typeof event.total_cost_usd === "number" && event.total_cost_usd >= 0 ? event.total_cost_usd : undefined,
        duration_ms: count(event.duration_ms),
        duration_api_ms: count(event.duration_api_ms),
        num_turns: count(event.num_turns),
      }),
    }),
  };
}
