import type { AgentUsage, JobErrorCode, JobEventRecord, JobRecord, JobSpec, JobStatus } from "../jobs-repo.js";

// The `jobs` and `job_events` rows as the SQL stores return them (JSON as text, booleans as 0/1, times as numbers), and their records.

export interface JobRow {
  id: string;
  workspace_id: string | null;
  spec: string;
  status: JobStatus;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  sandbox_id: string | null;
  session_id: string | null;
  turns: number;
  cleaned_up_at: number | null;
  error: string | null;
  error_code: string | null;
  result: string | null;
  usage: string | null;
  runner: string;
  test_mode: number;
  claimed_by: string | null;
  lease_until: number | null;
}

export interface EventRow {
  job_id: string;
  seq: number;
  type: JobEventRecord["type"];
  data: string;
  created_at: number;
}

export const toRecord = (row: JobRow): JobRecord => ({
  id: row.id,
  workspaceId: row.workspace_id,
  spec: JSON.parse(row.spec) as JobSpec,
  status: row.status,
  createdAt: row.created_at,
  startedAt: row.started_at,
  completedAt: row.completed_at,
  sandboxId: row.sandbox_id,
  sessionId: row.session_id,
  turns: row.turns,
  cleanedUpAt: row.cleaned_up_at,
  error: row.error === null ? null : { code: (row.error_code ?? "agent_failed") as JobErrorCode, message: row.error },
  result: row.result,
  usage: row.usage === null ? null : (JSON.parse(row.usage) as AgentUsage),
  runner: row.runner,
  testMode: row.test_mode === 1,
  claimedBy: row.claimed_by,
  leaseUntil: row.lease_until,
});

export const toEvent = (row: EventRow): JobEventRecord => ({
  jobId: row.job_id,
  seq: row.seq,
  type: row.type,
  data: JSON.parse(row.data) as Record<string, unknown>,
  createdAt: row.created_at,
});
