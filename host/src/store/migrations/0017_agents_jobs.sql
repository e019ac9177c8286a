-- Agents, their enrollment tokens and the job queue (SPEC §9, issue 10).
--
-- Credentials are stored only as keyed hashes (crypto/token.h): an
-- enrollment token is single use (consumed_at), short lived (expires_at)
-- and revocable; an agent secret is compared in constant time by the API.
-- An agent serves exactly one provider connection, fixed at enrollment.
--
-- Jobs carry references and sealed data only (I4): the API refuses any
-- connection-steering field before a row is written. A job is leased to
-- one agent of its connection at a time; completion is checked against the
-- lease holder and the lease expiry. Wake-ups: every change that makes a
-- job claimable sends NOTIFY sb_jobs with the connection id as payload.

CREATE TABLE agent_enrollment_tokens (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connection_id     uuid NOT NULL REFERENCES provider_connections (id) ON DELETE CASCADE,
    token_hash        bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    display_hint      text NOT NULL CHECK (length(display_hint) <= 32),
    created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    consumed_at       timestamptz,
    consumed_by_agent uuid,
    revoked_at        timestamptz,
    CHECK (expires_at > created_at),
    CHECK ((consumed_at IS NULL) = (consumed_by_agent IS NULL))
);
CREATE INDEX agent_enrollment_tokens_connection ON agent_enrollment_tokens (connection_id);

CREATE TABLE agents (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connection_id       uuid NOT NULL REFERENCES provider_connections (id) ON DELETE RESTRICT,
    name                text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
    version             text NOT NULL DEFAULT '' CHECK (length(version) <= 64),
    public_key          bytea NOT NULL CHECK (octet_length(public_key) = 32),
    secret_hash         bytea NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
    status              text NOT NULL DEFAULT 'enrolled'
                        CHECK (status IN ('enrolled', 'active', 'revoked')),
    capabilities        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(capabilities) = 'array'),
    health              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(health) = 'object'),
    enrollment_token_id uuid REFERENCES agent_enrollment_tokens (id) ON DELETE SET NULL,
    last_heartbeat_at   timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    revoked_at          timestamptz,
    revoked_by          uuid REFERENCES users (id) ON DELETE SET NULL,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX agents_connection ON agents (connection_id, created_at, id);
CREATE TRIGGER agents_touch BEFORE UPDATE ON agents
    FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();

CREATE TABLE jobs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type             text NOT NULL CHECK (type IN ('read', 'patch', 'discover', 'sync', 'verify')),
    connection_id    uuid NOT NULL REFERENCES provider_connections (id) ON DELETE RESTRICT,
    request_id       uuid REFERENCES requests (id) ON DELETE SET NULL,
    payload          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'
                                                        AND octet_length(payload::text) <= 65536),
    state            text NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'leased', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     integer NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 100),
    run_after        timestamptz NOT NULL DEFAULT now(),
    lease_owner      uuid REFERENCES agents (id) ON DELETE SET NULL,
    lease_expires_at timestamptz,
    last_error       text CHECK (length(last_error) <= 500),
    last_outcome     text CHECK (last_outcome IN ('succeeded', 'failed_retryable', 'failed_permanent')),
    last_completed_by uuid REFERENCES agents (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    CHECK ((state = 'leased') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CHECK ((state IN ('succeeded', 'failed')) = (finished_at IS NOT NULL))
);
-- One job per request (the approval creates it once).
CREATE UNIQUE INDEX jobs_request ON jobs (request_id) WHERE request_id IS NOT NULL;
-- The claim: the oldest due queued job of a connection.
CREATE INDEX jobs_claimable ON jobs (connection_id, run_after, created_at) WHERE state = 'queued';
-- The lease sweep.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'leased';
CREATE TRIGGER jobs_touch BEFORE UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();
