-- Tenancy (teams tree, projects, environments) and RBAC (roles, grants
-- scoped global / team subtree / project).

CREATE TABLE teams (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$'),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    parent_id   uuid REFERENCES teams (id) ON DELETE RESTRICT,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE UNIQUE INDEX teams_name_key ON teams (lower(name));
CREATE INDEX teams_parent ON teams (parent_id);
CREATE TRIGGER teams_touch BEFORE UPDATE ON teams FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();

-- A reparent that would make a team its own ancestor is refused by the
-- database too, whatever the application checked.
CREATE FUNCTION sb_teams_refuse_cycles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND EXISTS (
        WITH RECURSIVE up(id, parent_id, depth) AS (
            SELECT id, parent_id, 1 FROM teams WHERE id = NEW.parent_id
            UNION ALL
            SELECT t.id, t.parent_id, up.depth + 1 FROM teams t JOIN up ON t.id = up.parent_id
            WHERE up.depth < 64)
        SELECT 1 FROM up WHERE id = NEW.id) THEN
        RAISE EXCEPTION 'team % cannot be moved under its own descendant', NEW.id
            USING ERRCODE = 'P0001', HINT = 'team_cycle';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER teams_no_cycles BEFORE INSERT OR UPDATE OF parent_id ON teams
    FOR EACH ROW EXECUTE FUNCTION sb_teams_refuse_cycles();

CREATE TABLE team_members (
    team_id    uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE projects (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    team_id     uuid NOT NULL REFERENCES teams (id) ON DELETE RESTRICT,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX projects_name_key ON projects (name);
CREATE INDEX projects_team ON projects (team_id);
CREATE TRIGGER projects_touch BEFORE UPDATE ON projects FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();

CREATE TABLE environments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id  uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    kind        text NOT NULL CHECK (kind IN ('non_prod', 'prod')),
    risk_level  smallint NOT NULL DEFAULT 1 CHECK (risk_level BETWEEN 0 AND 4),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, name)
);
CREATE TRIGGER environments_touch BEFORE UPDATE ON environments
    FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();

-- kind and name never change: the production boundary (I9) hangs on kind.
CREATE FUNCTION sb_environments_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind <> OLD.kind OR NEW.name <> OLD.name OR NEW.project_id <> OLD.project_id THEN
        RAISE EXCEPTION 'environment kind, name and project are immutable'
            USING ERRCODE = 'P0001', HINT = 'environment_immutable';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER environments_immutable BEFORE UPDATE ON environments
    FOR EACH ROW EXECUTE FUNCTION sb_environments_immutable();

CREATE TABLE roles (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    is_system   boolean NOT NULL DEFAULT false,
    permissions text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX roles_name_key ON roles (name);
CREATE TRIGGER roles_touch BEFORE UPDATE ON roles FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();

CREATE TABLE grants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id     uuid NOT NULL REFERENCES roles (id) ON DELETE RESTRICT,
    scope_type  text NOT NULL CHECK (scope_type IN ('global', 'team', 'project')),
    team_id     uuid REFERENCES teams (id) ON DELETE CASCADE,
    project_id  uuid REFERENCES projects (id) ON DELETE CASCADE,
    granted_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope_type = 'global' AND team_id IS NULL AND project_id IS NULL)
        OR (scope_type = 'team' AND team_id IS NOT NULL AND project_id IS NULL)
        OR (scope_type = 'project' AND project_id IS NOT NULL AND team_id IS NULL))
);
CREATE UNIQUE INDEX grants_unique ON grants (user_id, role_id, scope_type,
    coalesce(team_id, '00000000-0000-0000-0000-000000000000'::uuid),
    coalesce(project_id, '00000000-0000-0000-0000-000000000000'::uuid));
CREATE INDEX grants_user ON grants (user_id);
