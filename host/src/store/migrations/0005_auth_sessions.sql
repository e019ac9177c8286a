-- Authentication additions to 0002_identity.
--
-- sessions.id: a public name for a session that is not its token. The JWT
-- that login returns carries it as `sid` (so logout, revocation and idle
-- expiry of the session reach the JWT too); GET /auth/session shows it.
-- The token itself is never stored, only its keyed hash (token_hash).
ALTER TABLE sessions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX sessions_id_key ON sessions (id);
-- Live sessions of a user (revoke-all on password reset / disable).
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL;

-- API tokens: the active ones of a user are counted at creation (a cap per
-- user) and listed newest first.
CREATE INDEX api_tokens_user_created ON api_tokens (user_id, created_at DESC, id DESC);

-- Sweeping old rate-limit windows without scanning the whole table.
CREATE INDEX rate_limit_windows_start ON rate_limit_windows (window_start);
