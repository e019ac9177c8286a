-- Read results, their single-use reveal and reveal sessions (SPEC §10,
-- I1, I2, I8; issue 10).
--
-- At the approval of a read (or a direct reveal) the control plane makes a
-- per-request X25519 key pair; the private half is stored only wrapped by
-- the KMS (kms_key_id names the key that wrapped it, so keys can rotate)
-- and the public half goes to the agent in the job. The agent seals each
-- value it read to that public key (crypto_box_seal); the boxes are kept
-- in secret_wraps until their requester reveals each once: the reveal
-- marks the row consumed (and drops the box) with one conditional UPDATE
-- before the private key is unwrapped, so concurrent reveals have exactly
-- one winner and a consumed result cannot be opened again by anyone.

CREATE TABLE request_read_keys (
    request_id          uuid PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    public_key          bytea NOT NULL CHECK (octet_length(public_key) = 32),
    wrapped_private_key bytea NOT NULL CHECK (octet_length(wrapped_private_key) BETWEEN 32 AND 8192),
    kms_key_id          text NOT NULL CHECK (length(kms_key_id) BETWEEN 1 AND 512),
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE secret_wraps (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id  uuid NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    key_name    text NOT NULL CHECK (length(key_name) BETWEEN 1 AND 256),
    value_kind  text NOT NULL CHECK (value_kind IN ('string', 'binary', 'json')),
    box         bytea CHECK (octet_length(box) BETWEEN 48 AND 1048624), -- NULL once consumed
    agent_id    uuid REFERENCES agents (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    consumed_at timestamptz,
    consumed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT secret_wraps_one_per_key UNIQUE (request_id, key_name),
    CHECK ((consumed_at IS NULL) = (consumed_by IS NULL)),
    CHECK (consumed_at IS NOT NULL OR box IS NOT NULL)
);
CREATE INDEX secret_wraps_live ON secret_wraps (expires_at) WHERE consumed_at IS NULL;

-- A reveal session bounds the time a requester's reveal view stays open:
-- when it ends (ttl, user_hide, unmount) the request's unconsumed wraps
-- expire with it.
CREATE TABLE reveal_sessions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    request_id     uuid NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    ttl_seconds    integer NOT NULL CHECK (ttl_seconds BETWEEN 10 AND 300),
    opened_at      timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    expired_at     timestamptz,
    expired_reason text CHECK (expired_reason IN ('ttl', 'user_hide', 'unmount')),
    CHECK ((expired_at IS NULL) = (expired_reason IS NULL))
);
CREATE INDEX reveal_sessions_user ON reveal_sessions (user_id, opened_at DESC) WHERE expired_at IS NULL;
CREATE INDEX reveal_sessions_due ON reveal_sessions (expires_at) WHERE expired_at IS NULL;
