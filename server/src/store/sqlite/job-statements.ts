import type Database from "better-sqlite3";

/**
 * The job repository's statements, prepared once per database. `onWrite` runs before and after every
 * execution of a statement that writes (SQLite's own `readonly` flag says which), so a cache of job records
 * can never outlive a write made through them.
 */
export function prepareJobStatements(db: Database.Database, onWrite: () => void = () => {}) {
  const p = (sql: string) => {
    const statement = db.prepare(sql);
    return statement.readonly ? statement : writing(statement, onWrite);
  };
  return {
    byId: p("SELECT * FROM jobs WHERE id = ?"),
    insert: p(
      `INSERT INTO jobs (id, workspace_id, spec, status, created_at, turns, runner, test_mode, queued_at)
       VALUES (@id, @workspace_id, @spec, 'pending', @now, 1, @runner, @test_mode, @now)`,
    ),
    activeTestJobs: p(
      `SELECT count(*) AS n FROM jobs WHERE workspace_id IS @workspace AND status IN ('pending', 'running')
         AND test_mode = 1 AND id != @id`,
    ),
    // "~" sorts after every id, so it stands for "from the newest".
    listAll: p("SELECT * FROM jobs WHERE id < @before ORDER BY id DESC LIMIT @limit"),
    listWorkspace: p(
      "SELECT * FROM jobs WHERE workspace_id = @workspace AND id < @before ORDER BY id DESC LIMIT @limit",
    ),
    listStatus: p("SELECT * FROM jobs WHERE status = @status AND id < @before ORDER BY id DESC LIMIT @limit"),
    listWorkspaceStatus: p(
      `SELECT * FROM jobs WHERE workspace_id = @workspace AND status = @status AND id < @before
       ORDER BY id DESC LIMIT @limit`,
    ),
    requeue: p(
      `UPDATE jobs SET status = 'pending', spec = @spec, turns = turns + 1, error = NULL, error_code = NULL,
         result = NULL, usage = NULL, started_at = NULL,
         completed_at = NULL, runner = @runner, test_mode = @test_mode, queued_at = @now,
         claimed_by = NULL, lease_until = NULL
       WHERE id = @id AND status IN ('completed', 'failed') AND cleaned_up_at IS NULL`,
    ),
    claim: p(
      `UPDATE jobs SET claimed_by = @replica, lease_until = @lease
       WHERE id = (SELECT id FROM jobs WHERE runner = @runner AND status = 'pending' AND claimed_by IS NULL
                   ORDER BY queued_at, id LIMIT 1)
       RETURNING *`,
    ),
    running: p(
      `UPDATE jobs SET status = 'running', started_at = @now, sandbox_id = @sandbox,
         session_id = coalesce(session_id, @session)
       WHERE id = @id AND status = 'pending' AND claimed_by = @replica AND cleaned_up_at IS NULL`,
    ),
    finish: p(
      `UPDATE jobs SET status = @status, error = @error, error_code = @code, result = @result, usage = @usage,
         completed_at = @now, claimed_by = NULL, lease_until = NULL
       WHERE id = @id AND status IN ('pending', 'running') AND claimed_by = @replica`,
    ),
    release: p(
      `UPDATE jobs SET claimed_by = NULL, lease_until = NULL
       WHERE id = ? AND status = 'pending' AND claimed_by = ?`,
    ),
    setSession: p("UPDATE jobs SET session_id = ? WHERE id = ?"),
    sessionAnywhere: p("SELECT 1 FROM jobs WHERE session_id = ? LIMIT 1"),
    sessionIn: p("SELECT 1 FROM jobs WHERE session_id = ? AND workspace_id = ? LIMIT 1"),
    stop: p(
      `UPDATE jobs SET status = 'failed', error = @error, error_code = @code, completed_at = @now, claimed_by = NULL,
         lease_until = NULL
       WHERE id = @id AND status IN ('pending', 'running')`,
    ),
    markCleaned: p("UPDATE jobs SET cleaned_up_at = @now, sandbox_id = NULL, sandbox_bytes = 0 WHERE id = @id"),
    reserve: p("UPDATE jobs SET sandbox_bytes = ? WHERE id = ?"),
    lastSeq: p("SELECT coalesce(max(seq), 0) AS seq FROM job_events WHERE job_id = ?"),
    insertEvent: p("INSERT INTO job_events (job_id, seq, type, data, created_at) VALUES (?, ?, ?, ?, ?)"),
    events: p("SELECT * FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
    renew: p(
      `UPDATE jobs SET lease_until = @lease WHERE claimed_by = @replica AND status IN ('pending', 'running')
       RETURNING id`,
    ),
    lost: p(
      `SELECT * FROM jobs WHERE claimed_by IS NOT NULL AND status IN ('pending', 'running')
         AND (claimed_by = @replica OR lease_until < @now)`,
    ),
  };
}

/** `statement` with `onWrite` called around each run (before: nothing stale is read during it; after: nor
 * anything read inside it, which a rollback could still undo). */
function writing(statement: Database.Statement, onWrite: () => void): Database.Statement {
  const around =
    <A extends unknown[], R>(call: (...args: A) => R) =>
    (...args: A): R => {
      onWrite();
      try {
        return call(...args);
      } finally {
        onWrite();
      }
    };
  return Object.assign(Object.create(statement) as Database.Statement, {
    run: around(statement.run.bind(statement)),
    get: around(statement.get.bind(statement)),
    all: around(statement.all.bind(statement)),
  });
}
