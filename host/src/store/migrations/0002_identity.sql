-- Identity: users, server-side sessions, personal API tokens, login rate
-- limit windows. Secrets are stored only as hashes (argon2id for
-- passwords, keyed BLAKE2b for bearer tokens); nothing here can be used to
-- log in if the table leaks.

CREATE FUNCTION sb_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username       text NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$'),
    display_name   text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
    email          text CHECK (email IS NULL OR length(email) <= 320),
    password_hash  text,
    source         text NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'oidc', 'bootstrap')),
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    failed_logins  integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();

CREATE TABLE sessions (
    token_hash          bytea PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz NOT NULL DEFAULT now(),
    idle_expires_at     timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL,
    last_mfa_at         timestamptz,
    revoked_at          timestamptz,
    remote_ip           text,
    CHECK (idle_expires_at <= absolute_expires_at)
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (absolute_expires_at) WHERE revoked_at IS NULL;

CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   bytea NOT NULL UNIQUE,
    display_hint text NOT NULL,                 -- e.g. "sbp_AbC…" (prefix only)
    scopes       text[] NOT NULL DEFAULT '{}',
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Fixed windows per bucket (e.g. "login:ip:203.0.113.9"); rows of past
-- windows are swept.
CREATE TABLE rate_limit_windows (
    bucket       text NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, window_start)
);
