import type { JobSpec } from "../../store/jobs-repo.js";
import type { AgentName, StreamParser } from "./agent-events.js";
import { claudeAdapter } from "./claude.js";
import { cursorAdapter } from "./cursor.js";
import { geminiAdapter } from "./gemini.js";

/** One turn as an agent CLI gets it. */
export interface AgentTurn {
  prompt: string;
  /** `spec.model`; `auto` lets the CLI choose. */
  model: string;
  /** The CLI's own session to resume, or null for a fresh one. */
  resumeSessionId: string | null;
}

/** The arguments of one run, or why the agent cannot run this turn. */
export type AgentArgs = { args: string[] } | { unsupportedModel: string; supported: string[] };

/** How Knify drives one agent CLI headless: its binary, its credentials, its arguments, its output. */
export interface AgentAdapter {
  name: AgentName;
  /** The binary looked up on `PATH`, and the variable that overrides it. */
  defaultBin: string;
  binVariable: string;
  /** The CLI's credential variables: passed through from the server's environment only when set. */
  credentials: readonly string[];
  /** The argv after the binary; the prompt is one element of it (no shell ever sees it). */
  args(turn: AgentTurn): AgentArgs;
  parser(): StreamParser;
}

/**
 * The adapter of each job type (issue 13): Cursor for `cursor_task`, and for `fh_e2e_tools` and `user_exam`
 * (Knify's own job types run on Cursor, with the prompt from their fields; see `agentPrompt`).
 */
export function adapterFor(jobType: JobSpec["job_type"]): AgentAdapter {
  switch (jobType) {
    case "claude_task":
      return claudeAdapter;
    case "gemini_task":
      return geminiAdapter;
    default:
      return cursorAdapter;
  }
}
