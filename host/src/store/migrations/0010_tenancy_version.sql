-- A counter bumped whenever the team tree or project ownership changes, so
-- every server replica can keep the tenancy (tree + project owners) cached
-- and rebuild it only when this number moves.

CREATE TABLE tenancy_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL DEFAULT 1
);
INSERT INTO tenancy_version DEFAULT VALUES;

CREATE FUNCTION sb_bump_tenancy_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenancy_version SET version = version + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER teams_bump_tenancy AFTER INSERT OR DELETE OR UPDATE OF parent_id ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION sb_bump_tenancy_version();
CREATE TRIGGER projects_bump_tenancy AFTER INSERT OR DELETE OR UPDATE OF team_id ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION sb_bump_tenancy_version();
