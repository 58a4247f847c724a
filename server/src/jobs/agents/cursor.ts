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

/**
 * Cursor's CLI: `cursor-agent -p --force --output-format stream-json [--model m] [--resume id] -- <prompt>`.
 * `--force` lets it change files without asking (print mode only proposes changes otherwise): the sandbox is
 * the agent's to edit. `auto` omits `--model`, so the CLI chooses. Knify's model names are Cursor's.
 */
export const cursorAdapter: AgentAdapter = {
  name: "cursor",
  defaultBin: "cursor-agent",
  binVariable: "KNIFY_CURSOR_AGENT_BIN",
  credentials: ["CURSOR_API_KEY"],
  args({ prompt, model, resumeSessionId }) {
    const args = ["-p", "--force", "--output-format", "stream-json"];
    if (model !== "auto") args.push("--model", model);
    if (resumeSessionId !== null) args.push("--resume", resumeSessionId);
    // "--" ends the options: a prompt such as "--help" or "--force" stays a prompt.
    args.push("--", prompt);
    return { args };
  },
  parser: () => new CursorParser(),
};

/**
 * Cursor's stream-json (cursor.com/docs/cli/reference/output-format): `system`/`init` (session_id, model),
 * `user` (the prompt echoed), `assistant` (one complete message between tool calls), `tool_call` with
 * `subtype` `started`/`completed` and `tool_call: {<name>ToolCall: {args, result: {success|error}}}`, and a
 * final `result` (result, is_error, duration_ms, duration_api_ms, session_id). On failure the CLI exits
 * non-zero and may end without a `result`.
 */
class CursorParser implements StreamParser {
  line(line: string): Parsed {
    const event = parseJsonLine(line);
    if (!event) return { events: [outputEvent("cursor", line)] };
    const sessionId = str(event.session_id);
    const parsed = (events: AgentJobEvent[]): Parsed => (sessionId ? { events, sessionId } : { events });
    switch (event.type) {
      case "system":
        return parsed(event.subtype === "init" ? [] : [outputEvent("cursor", line)]);
      case "user":
        return parsed([]);
      case "assistant": {
        const text = textOf(isRecord(event.message) ? event.message.content : undefined);
        return parsed(
          text ? [{ type: "agent.message", data: { agent: "cursor", text: cut(text, MAX_TEXT_CHARS) } }] : [],
        );
      }
      case "tool_call": {
        const call = toolCall(event);
        return parsed(call ? [call] : [outputEvent("cursor", line)]);
      }
      case "result":
        return parsed([resultEvent(event, sessionId)]);
      default:
        return parsed([outputEvent("cursor", line)]);
    }
  }

  end(): Parsed {
    return { events: [] };
  }
}

function toolCall(event: Record<string, unknown>): AgentJobEvent | null {
  const callId = str(event.call_id);
  if (!callId || !isRecord(event.tool_call)) return null;
  // One key names the tool (`readToolCall`, `shellToolCall`, …); MCP and other tools come as `function`.
  const [key, body] = Object.entries(event.tool_call)[0] ?? [];
  if (!key || !isRecord(body)) return null;
  const name = key === "function" && typeof body.name === "string" ? body.name : key;
  const input = summarize(key === "function" ? body.arguments : body.args);
  if (event.subtype !== "completed") {
    return { type: "agent.tool_call", data: { agent: "cursor", call_id: callId, name, input, status: "started" } };
  }
  const result = isRecord(body.result) ? body.result : {};
  const failed = "error" in result || "failure" in result || "rejected" in result;
  const output = summarize(result.error ?? result.failure ?? result.rejected ?? result.success ?? result);
  return {
    type: "agent.tool_call",
    data: { agent: "cursor", call_id: callId, name, input, status: failed ? "error" : "success", output },
  };
}

function resultEvent(event: Record<string, unknown>, sessionId: string | undefined): AgentJobEvent {
  // Recent CLI versions add token counts (camelCase); older ones report durations only.
  const usage = isRecord(event.usage) ? event.usage : {};
  return {
    type: "agent.result",
    data: compact({
      agent: "cursor" as const,
      text: typeof event.result === "string" ? cut(event.result, MAX_TEXT_CHARS) : undefined,
      is_error: event.is_error === true || (typeof event.subtype === "string" && event.subtype !== "success"),
      session_id: sessionId,
      usage: compact({
        input_tokens: count(usage.inputTokens ?? usage.input_tokens),
        output_tokens: count(usage.outputTokens ?? usage.output_tokens),
        cache_read_tokens: count(usage.cacheReadTokens),
        cache_write_tokens: count(usage.cacheWriteTokens),
        duration_ms: count(event.duration_ms),
        duration_api_ms: count(event.duration_api_ms),
      }),
    }),
  };
}
