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
} from "./agent-events.js";

/**
 * Gemini CLI: `gemini --output-format stream-json --approval-mode auto_edit [--resume id] --prompt=<prompt>`.
 * The prompt rides in `--prompt=` so that a prompt starting with "-" is never read as an option. Gemini
 * resumes a session by id (`--resume <id>`, geminicli.com/docs/cli/session-management); its sessions live
 * under `$HOME`, which is the sandbox, so they persist with it. None of Knify's model names is a Gemini
 * model: only `auto` (the CLI's default) runs.
 */
export const geminiAdapter: AgentAdapter = {
  name: "gemini",
  defaultBin: "gemini",
  binVariable: "KNIFY_GEMINI_BIN",
  credentials: ["GEMINI_API_KEY"],
  args({ prompt, model, resumeSessionId }) {
    if (model !== "auto") return { unsupportedModel: model, supported: ["auto"] };
    const args = ["--output-format", "stream-json", "--approval-mode", "auto_edit"];
    if (resumeSessionId !== null) args.push("--resume", resumeSessionId);
    args.push(`--prompt=${prompt}`);
    return { args };
  },
  parser: () => new GeminiParser(),
};

/**
 * Gemini CLI's stream-json (packages/core/src/output/types.ts): `init` (session_id, model), `message` (role
 * user|assistant, content, `delta: true` for chunks), `tool_use` (tool_name, tool_id, parameters),
 * `tool_result` (tool_id, status success|error, output, error), `error` (non-fatal), and a final `result`
 * (status, error, stats with tokens and duration). The result carries no text: the turn's answer is its
 * assistant messages, so chunks are joined into one `agent.message` per message and the result's text is
 * the turn's assistant text.
 */
class GeminiParser implements StreamParser {
  private pending = "";
  private answer: string[] = [];
  private readonly tools = new Map<string, string>();

  line(line: string): Parsed {
    const event = parseJsonLine(line);
    if (!event) return { events: [...this.flush(), outputEvent("gemini", line)] };
    if (event.type === "message" && event.role === "assistant") {
      this.pending += str(event.content) ?? "";
      return { events: [] };
    }
    const events = this.flush();
    const sessionId = str(event.session_id);
    switch (event.type) {
      case "init":
      case "message": // the user's prompt, echoed
        break;
      case "tool_use": {
        const callId = str(event.tool_id) ?? "";
        const name = str(event.tool_name) ?? "tool";
        this.tools.set(callId, name);
        const input = summarize(event.parameters ?? {});
        events.push({
          type: "agent.tool_call",
          data: { agent: "gemini", call_id: callId, name, input, status: "started" },
        });
        break;
      }
      case "tool_result": {
        const callId = str(event.tool_id) ?? "";
        const failed = event.status === "error";
        const error = isRecord(event.error) ? str(event.error.message) : undefined;
        events.push({
          type: "agent.tool_call",
          data: {
            agent: "gemini",
            call_id: callId,
            name: this.tools.get(callId) ?? "tool",
            status: failed ? "error" : "success",
            output: summarize((failed ? error : undefined) ?? event.output ?? ""),
          },
        });
        break;
      }
      case "result":
        events.push(this.result(event));
        break;
      default:
        events.push(outputEvent("gemini", line));
    }
    return sessionId ? { events, sessionId } : { events };
  }

  end(): Parsed {
    return { events: this.flush() };
  }

  private flush(): AgentJobEvent[] {
    const text = this.pending;
    this.pending = "";
    if (text === "") return [];
    this.answer.push(text);
    return [{ type: "agent.message", data: { agent: "gemini", text: cut(text, MAX_TEXT_CHARS) } }];
  }

  private result(event: Record<string, unknown>): AgentJobEvent {
    const stats = isRecord(event.stats) ? event.stats : {};
    const failed = event.status === "error";
    const error = isRecord(event.error) ? str(event.error.message) : undefined;
    const text = failed ? (error ?? "the Gemini CLI reported an error") : this.answer.join("\n\n");
    return {
      type: "agent.result",
      data: compact({
        agent: "gemini" as const,
        text: text === "" ? undefined : cut(text, MAX_TEXT_CHARS),
        is_error: failed,
        usage: compact({
          input_tokens: count(stats.input_tokens),
          output_tokens: count(stats.output_tokens),
          cache_read_tokens: count(stats.cached),
          total_tokens: count(stats.total_tokens),
          duration_ms: count(stats.duration_ms),
          tool_calls: count(stats.tool_calls),
        }),
      }),
    };
  }
}
