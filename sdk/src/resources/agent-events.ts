import type { components } from "../generated/schema.js";

type Schemas = components["schemas"];
/** The agent CLI that ran a turn (`cursor`, `claude`, `gemini`; extensible). */
export type AgentName = Schemas["AgentName"];
/** What a turn cost as the agent reported it (tokens, cost, durations); on `Job.usage` and `agent.result`. */
export type AgentUsage = Schemas["AgentUsage"];
/** `data` of an `agent.message` event: one complete assistant message. */
export type AgentMessageData = Schemas["AgentMessageData"];
/** `data` of an `agent.tool_call` event: a tool started (`started`) or ended (`success`, `error`). */
export type AgentToolCallData = Schemas["AgentToolCallData"];
/** `data` of an `agent.result` event: the agent's final text, whether it failed, and its usage. */
export type AgentResultData = Schemas["AgentResultData"];
/** `data` of an `agent.output` event: a line of the agent's output of no known type. */
export type AgentOutputData = Schemas["AgentOutputData"];
