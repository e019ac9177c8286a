-- The audit trail (I5). Append-only: UPDATE, DELETE and TRUNCATE are
-- refused by the database. Events are written in the same transaction as
-- the change they record, with no lock on the insert path; a sealer
-- (one at a time, under an advisory lock) later links committed events
-- into a keyed hash chain in the order it finds them committed, filling
-- chain_seq/prev_hash/hash exactly once. The only UPDATE allowed is that
-- one-time sealing of an otherwise unchanged row.

CREATE TABLE audit_events (
    id             bigserial PRIMARY KEY,
    occurred_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor          text NOT NULL,              -- "user:<uuid>", "agent:<uuid>", "system"
    action         text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]{1,99}$'),
    resource       text NOT NULL,              -- "team:<uuid>", "session", ...
    outcome        text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    severity       text NOT NULL DEFAULT 'info' CHECK (severity IN ('info', 'warning', 'critical')),
    correlation_id text NOT NULL,
    request_id     text,
    remote_ip      text,
    details        jsonb NOT NULL DEFAULT '{}',
    chain_seq      bigint UNIQUE,
    prev_hash      bytea,
    hash           bytea,
    sealed_at      timestamptz
);
CREATE INDEX audit_events_unsealed ON audit_events (id) WHERE chain_seq IS NULL;
CREATE INDEX audit_events_actor ON audit_events (actor, id DESC);
CREATE INDEX audit_events_resource ON audit_events (resource, id DESC);
CREATE INDEX audit_events_correlation ON audit_events (correlation_id);
CREATE INDEX audit_events_action ON audit_events (action, id DESC);
CREATE INDEX audit_events_time ON audit_events (occurred_at);

CREATE FUNCTION sb_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
       AND NEW.hash IS NOT NULL AND NEW.sealed_at IS NOT NULL
       AND (NEW.id, NEW.occurred_at, NEW.actor, NEW.action, NEW.resource, NEW.outcome,
            NEW.severity, NEW.correlation_id, NEW.request_id, NEW.remote_ip, NEW.details)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.occurred_at, OLD.actor, OLD.action, OLD.resource, OLD.outcome,
            OLD.severity, OLD.correlation_id, OLD.request_id, OLD.remote_ip, OLD.details) THEN
        RETURN NEW; -- the one-time seal
    END IF;
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'P0001', HINT = 'audit_append_only';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION sb_audit_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION sb_audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION sb_audit_append_only();
