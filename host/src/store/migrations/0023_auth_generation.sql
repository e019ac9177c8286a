-- The auth generation: one counter that moves, in the writing transaction,
-- whenever something a cached session, API token or grant set depends on
-- changes — a session revoked, shortened or stepped up (MFA), a session
-- deleted, an API token revoked/re-scoped/shortened, a user disabled or
-- renamed, a grant or role changed, the tenancy version bumped. The trigger
-- also sends NOTIFY sb_auth (payload: the new generation) so every server
-- replica drops its per-process auth cache (api/auth_cache.h). Triggers,
-- not application code, so that a change made by plain SQL counts too.

CREATE TABLE auth_generation (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation bigint NOT NULL DEFAULT 1
);
INSERT INTO auth_generation DEFAULT VALUES;

CREATE FUNCTION sb_bump_auth_generation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    g bigint;
BEGIN
    UPDATE auth_generation SET generation = generation + 1 RETURNING generation INTO g;
    PERFORM pg_notify('sb_auth', g::text);
    RETURN NULL;
END $$;

-- Sessions: the idle slide (last_seen_at, a later idle expiry) does not
-- count; a revocation, an earlier expiry or a new MFA time does.
CREATE TRIGGER sessions_auth_changed AFTER UPDATE ON sessions FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
          OR OLD.last_mfa_at IS DISTINCT FROM NEW.last_mfa_at
          OR NEW.idle_expires_at < OLD.idle_expires_at
          OR NEW.absolute_expires_at < OLD.absolute_expires_at
          OR OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION sb_bump_auth_generation();
CREATE TRIGGER sessions_auth_deleted AFTER DELETE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION sb_bump_auth_generation();
-- API tokens: the last-used stamp does not count.
CREATE TRIGGER api_tokens_auth_changed
    AFTER UPDATE OF revoked_at, expires_at, scopes, user_id, token_hash OR DELETE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION sb_bump_auth_generation();
CREATE TRIGGER users_auth_changed AFTER UPDATE OF status, username OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION sb_bump_auth_generation();
CREATE TRIGGER grants_auth_changed AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION sb_bump_auth_generation();
CREATE TRIGGER roles_auth_changed AFTER UPDATE OR DELETE ON roles
    FOR EACH STATEMENT EXECUTE FUNCTION sb_bump_auth_generation();
CREATE TRIGGER tenancy_auth_changed AFTER UPDATE ON tenancy_version
    FOR EACH STATEMENT EXECUTE FUNCTION sb_bump_auth_generation();
