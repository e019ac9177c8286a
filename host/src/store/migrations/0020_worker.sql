-- The worker role (SPEC §12, issue 15).
--
-- worker_tasks: one row per scheduled task, shared by every replica. A
-- replica runs a task only while it holds the task's advisory lock AND it
-- moved next_run_at forward (a conditional UPDATE on next_run_at <= now()),
-- so however many replicas tick, a task runs once per interval. A failed
-- run pushes next_run_at out by the backoff (consecutive_failures doubles
-- it, capped), so a failing task neither hammers the database nor stops:
-- the next due tick runs it again.
CREATE TABLE worker_tasks (
    name                 text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    next_run_at          timestamptz NOT NULL DEFAULT now(),
    last_started_at      timestamptz,
    last_finished_at     timestamptz,
    last_outcome         text CHECK (last_outcome IN ('succeeded', 'failed')),
    last_error           text CHECK (length(last_error) <= 500),
    last_runner          text CHECK (length(last_runner) <= 128),
    consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    runs                 bigint NOT NULL DEFAULT 0 CHECK (runs >= 0)
);

-- Stale agents are stored (the worker marks them and audits it, so the
-- event is recorded once and admins can be told); a heartbeat makes them
-- active again.
ALTER TABLE agents DROP CONSTRAINT agents_status_check;
ALTER TABLE agents ADD CONSTRAINT agents_status_check
    CHECK (status IN ('enrolled', 'active', 'stale', 'revoked'));
CREATE INDEX agents_heartbeat ON agents (last_heartbeat_at) WHERE status = 'active';

-- Expired read results lose their ciphertext (the box) for good:
-- purged_at records when; the row stays so the request shows what expired.
ALTER TABLE secret_wraps ADD COLUMN purged_at timestamptz;
ALTER TABLE secret_wraps DROP CONSTRAINT secret_wraps_check1;
ALTER TABLE secret_wraps ADD CONSTRAINT secret_wraps_box_present
    CHECK (consumed_at IS NOT NULL OR purged_at IS NOT NULL OR box IS NOT NULL);
CREATE INDEX request_sealed_values_due ON request_sealed_values (expires_at);
