-- Secret requests and their votes (SPEC §8). The status column is written
-- only through domain/request_machine (store/request_store.c applies each
-- transition as a compare-and-set on (id, state)); the CHECK below keeps the
-- (kind, state) pairs the machine's table uses and nothing else
-- (test_request_store asserts the two agree).
--
-- A request snapshots its workflow and its policy decision at submit: later
-- edits of the workflow or the rules do not change a request in flight.
-- Patch and cross-team values exist here only as sealed boxes (I1, I2):
-- crypto_box_seal ciphertexts made by the client for an agent's X25519
-- public key; the control plane cannot open them.

CREATE TABLE requests (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind              text NOT NULL CHECK (kind IN ('read', 'patch', 'direct_reveal', 'cross_team')),
    state             text NOT NULL,
    requester_id      uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    justification     text NOT NULL DEFAULT '' CHECK (length(justification) <= 2000),
    project_id        uuid NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    environment_id    uuid NOT NULL REFERENCES environments (id) ON DELETE RESTRICT,
    binding_id        uuid REFERENCES secret_bindings (id) ON DELETE SET NULL,
    catalog_secret_id uuid NOT NULL REFERENCES catalog_secrets (id) ON DELETE RESTRICT,
    connection_id     uuid NOT NULL REFERENCES provider_connections (id) ON DELETE RESTRICT,
    provider_type     text NOT NULL,
    secret_ref        text NOT NULL,
    keys              text[] NOT NULL DEFAULT '{}',
    operation         text NOT NULL CHECK (operation IN ('read', 'patch', 'reveal')),
    target_team_id    uuid REFERENCES teams (id) ON DELETE RESTRICT, -- cross_team: who fills
    workflow_id       uuid REFERENCES workflows (id) ON DELETE SET NULL,
    workflow          jsonb NOT NULL,  -- snapshot at submit
    policy            jsonb NOT NULL,  -- the decision at submit (rule id, flags, reasons)
    expires_at        timestamptz NOT NULL,
    fill_expires_at   timestamptz,
    filled_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    filled_at         timestamptz,
    fill_comment      text CHECK (length(fill_comment) <= 2000),
    reason            text CHECK (length(reason) <= 2000), -- reject / refuse / failure
    decided_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind IN ('read', 'patch')
            AND state IN ('pending', 'approved', 'executed', 'failed', 'rejected', 'cancelled', 'expired'))
        OR (kind = 'direct_reveal' AND state IN ('approved', 'executed', 'failed'))
        OR (kind = 'cross_team'
            AND state IN ('pending_values', 'pending_verification', 'approved', 'executed', 'failed',
                          'rejected', 'cancelled', 'expired', 'refused'))),
    CHECK ((kind = 'cross_team') = (target_team_id IS NOT NULL)),
    CHECK (kind <> 'cross_team' OR fill_expires_at IS NOT NULL)
);
CREATE INDEX requests_requester ON requests (requester_id, created_at DESC, id);
CREATE INDEX requests_open ON requests (project_id, state)
    WHERE state IN ('pending', 'pending_verification');
CREATE INDEX requests_inbox ON requests (target_team_id, created_at)
    WHERE state = 'pending_values';
-- When an open request is due for the expiry sweep (store/request_store.c
-- uses the same expression, so the sweep reads this index, not the table).
CREATE INDEX requests_due ON requests
    ((CASE WHEN state = 'pending_values' THEN LEAST(expires_at, fill_expires_at)
           ELSE expires_at END))
    WHERE state IN ('pending', 'pending_values', 'pending_verification');
CREATE TRIGGER requests_touch BEFORE UPDATE ON requests
    FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();

-- One vote per approver per request; a vote row is never changed.
CREATE TABLE request_votes (
    request_id  uuid NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    approver_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    decision    text NOT NULL CHECK (decision IN ('approve', 'reject')),
    groups      bigint NOT NULL DEFAULT 0, -- bit g: member of workflow group g when voting
    comment     text NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, approver_id)
);

-- Sealed values (patch submit, cross-team fill): one box per key per
-- recipient key. expires_at follows the workflow's wrap TTLs.
CREATE TABLE request_sealed_values (
    request_id   uuid NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    key_name     text NOT NULL CHECK (length(key_name) BETWEEN 1 AND 256),
    recipient    text NOT NULL CHECK (length(recipient) BETWEEN 1 AND 64), -- base64 X25519 public key
    box          bytea NOT NULL CHECK (octet_length(box) BETWEEN 49 AND 1048624),
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, key_name, recipient)
);

-- The job an approval asks for, recorded in the approving transaction. The
-- job queue (agent issue) consumes these; the primary key makes a second
-- intent for one request impossible.
CREATE TABLE job_intents (
    request_id  uuid PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    job_type    text NOT NULL CHECK (job_type IN ('read', 'patch')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
