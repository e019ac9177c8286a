-- OpenID Connect single sign-on (SPEC §8 "OIDC users (JIT)", api/oidc_*.c).
--
-- oidc_login_states: one row per sign-in in flight, between the redirect
-- to the provider and its callback. Keyed by the keyed hash of the `state`
-- parameter (the state itself never reaches the table); binding_hash is the
-- keyed hash of the browser-binding cookie, which is also the PKCE code
-- verifier, so nothing here can complete a sign-in. Single use: the
-- callback DELETEs the row it consumes; rows live minutes (expires_at) and
-- expired ones are swept at each new sign-in.
CREATE TABLE oidc_login_states (
    state_hash   bytea PRIMARY KEY,
    binding_hash bytea NOT NULL,
    nonce        text NOT NULL CHECK (length(nonce) BETWEEN 16 AND 128),
    return_to    text NOT NULL CHECK (length(return_to) BETWEEN 1 AND 2048),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);
CREATE INDEX oidc_login_states_expiry ON oidc_login_states (expires_at);

-- Who a provider says a user is: (issuer, subject) names one local user for
-- good. Created with the user the first time (just in time); never matched
-- by username or email, so an account at the provider can never take over
-- a local account that happens to share its name.
CREATE TABLE oidc_identities (
    issuer        text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2048),
    subject       text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    user_id       uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    email         text CHECK (email IS NULL OR length(email) <= 320),
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject)
);
