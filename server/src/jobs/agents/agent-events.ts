import type { components } from "../../generated/schema.js";

type Schemas = components["schemas"];
export type AgentName = Schemas["AgentName"];
export type AgentUsage = Schemas["AgentUsage"];
export type JobErrorCode = Schemas["JobError"]["code"];

/** A job event parsed from one stream-json line; `data` has the spec's shape for its `type`. */
export type AgentJobEvent =
  | { type: "agent.message"; data: Schemas["AgentMessageData"] }
  | { type: "agent.tool_call"; data: Schemas["AgentToolCallData"] }
  | { type: "agent.result"; data: Schemas["AgentResultData"] }
  | { type: "agent.output"; data: Schemas["AgentOutputData"] };

/** What one stdout line (or the end of the stream) yields: events to append, and the session it names. */
export interface Parsed {
  events: AgentJobEvent[];
  sessionId?: string;
}

/** Turns an agent CLI's stream-json stdout into job events. One parser per turn: some keep state. */
export interface StreamParser {
  line(line: string): Parsed;
  /** The stream ended: whatever the parser still holds (Gemini's message chunks). */
  end(): Parsed;
}

/** Longest assistant text kept in one event (spec: AgentMessageData.text). */
export const MAX_TEXT_CHARS = 65_536;
/** Longest tool input or output summary (spec: AgentToolCallData). */
export const MAX_SUMMARY_CHARS = 1024;

/** Cuts `text` to `max` characters, marking the cut with "…". */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A short, bounded summary of a tool's arguments or result: strings as they are, anything else as JSON. */
export function summarize(value: unknown): string {
  if (typeof value === "string") return cut(value, MAX_SUMMARY_CHARS);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return cut(json ?? String(value), MAX_SUMMARY_CHARS);
}

/** The line as a JSON object with a string `type`, or null (then it becomes `agent.output`). */
export function parseJsonLine(line: string): (Record<string, unknown> & { type: string }) | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return null;
  try {
    const value = JSON.parse(trimmed) as unknown;
    if (isRecord(value) && typeof value.type === "string") return value as Record<string, unknown> & { type: string };
  } catch {
    // Not JSON: kept as output.
  }
  return null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** A non-negative integer field, else undefined (CLIs report counts; anything else is not usage). */
export const count = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;

/** `T` with its possibly-undefined fields made optional instead. */
type Compact<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** Drops the undefined fields, so absent usage stays absent (spec: "fields it does not report are absent"). */
export function compact<T extends Record<string, unknown>>(value: T): Compact<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Compact<T>;
}

/** The event for a line Knify does not understand: kept, never dropped (issue 13). */
export const outputEvent = (agent: AgentName, line: string): AgentJobEvent => ({
  type: "agent.output",
  data: { agent, line },
});

/** The text blocks of a Claude-style `message.content` (a string or an array of `{type: "text", text}`). */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((block): block is { type: "text"; text: string } => isRecord(block) && block.type === "text")
    .map((block) => (typeof block.text === "string" ? block.text : ""))
    .join("");
}
