-- The audit chain moves out of audit_events (issue 19).
--
-- Sealing used to UPDATE each event once to fill chain_seq/prev_hash/hash.
-- That rewrote the whole row and all seven of its index entries: sealing
-- cost about a quarter of an append, so one sealer could not keep up with
-- eight writers and the unsealed tail grew for as long as the load lasted.
-- Now:
--   audit_events    strictly append-only: UPDATE, DELETE, TRUNCATE refused.
--   audit_unsealed  the sealer's queue: one narrow row per committed event
--                   not yet in the chain, written by a trigger in the
--                   inserting statement (whoever inserts an event queues it).
--   audit_chain     one row per sealed event, INSERT only: its position,
--                   the previous link's hash and its own keyed hash.
-- Sealing a batch deletes its queue rows and inserts its chain rows: about
-- five times cheaper per event than the UPDATE, and events never become
-- dead tuples. The hash covers exactly what it covered before, so chains
-- sealed before this migration verify unchanged.

CREATE TABLE audit_chain (
    chain_seq bigint PRIMARY KEY CHECK (chain_seq > 0),
    event_id  bigint NOT NULL UNIQUE,
    prev_hash bytea NOT NULL,
    hash      bytea NOT NULL,
    sealed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_unsealed (
    event_id bigint PRIMARY KEY
);

-- Existing links are copied verbatim; a link someone damaged (a NULL hash)
-- becomes an empty one, which `sbridge audit verify` reports as malformed.
INSERT INTO audit_chain (chain_seq, event_id, prev_hash, hash, sealed_at)
SELECT chain_seq, id, coalesce(prev_hash, '\x'::bytea), coalesce(hash, '\x'::bytea),
       coalesce(sealed_at, now())
FROM audit_events WHERE chain_seq IS NOT NULL;
INSERT INTO audit_unsealed (event_id) SELECT id FROM audit_events WHERE chain_seq IS NULL;

-- Statement-level, with a transition table: one call per INSERT statement,
-- set-based for bulk inserts.
CREATE FUNCTION sb_audit_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_unsealed (event_id) SELECT id FROM new_events;
    RETURN NULL;
END $$;
CREATE TRIGGER audit_events_enqueue AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION sb_audit_enqueue();

ALTER TABLE audit_events DROP COLUMN chain_seq, DROP COLUMN prev_hash, DROP COLUMN hash,
    DROP COLUMN sealed_at;

-- No exception any more: every UPDATE, DELETE and TRUNCATE is refused, on
-- the events and on the chain alike.
CREATE OR REPLACE FUNCTION sb_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'P0001', HINT = 'audit_append_only';
END $$;
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION sb_audit_append_only();
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION sb_audit_append_only();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION sb_audit_append_only();
