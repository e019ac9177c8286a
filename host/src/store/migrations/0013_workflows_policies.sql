-- Workflows (how a request is approved) and policy rules (which workflow
-- and access flags apply to a request), SPEC §8. A workflow's approval
-- groups are a JSON array checked by domain/workflow_rules before it gets
-- here: [{"name", "required", "permission", "role_ids", "owning_team_member"}].
-- Exactly one workflow is the default (the policy engine's fallback); system
-- workflows cannot be deleted (refused here as well as by the API).

CREATE TABLE workflows (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                     text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    description              text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    min_approvers            integer NOT NULL DEFAULT 1 CHECK (min_approvers BETWEEN 0 AND 20),
    approver_role_ids        uuid[] NOT NULL DEFAULT '{}',
    groups                   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(groups) = 'array'),
    allow_self_approval      boolean NOT NULL DEFAULT false,
    require_justification    boolean NOT NULL DEFAULT true,
    request_ttl_s            integer NOT NULL DEFAULT 1209600
                             CHECK (request_ttl_s BETWEEN 60 AND 7776000),
    fill_ttl_s               integer NOT NULL DEFAULT 86400 CHECK (fill_ttl_s BETWEEN 60 AND 2592000),
    wrap_ttl_created_s       integer NOT NULL DEFAULT 604800
                             CHECK (wrap_ttl_created_s BETWEEN 60 AND 2592000),
    wrap_ttl_approved_s      integer NOT NULL DEFAULT 3600
                             CHECK (wrap_ttl_approved_s BETWEEN 60 AND 2592000),
    wrap_ttl_claimed_s       integer NOT NULL DEFAULT 300 CHECK (wrap_ttl_claimed_s BETWEEN 10 AND 86400),
    notification_channels    text[] NOT NULL DEFAULT '{}',
    enabled                  boolean NOT NULL DEFAULT true,
    is_default               boolean NOT NULL DEFAULT false,
    is_system                boolean NOT NULL DEFAULT false,
    scoped_policy_authorable boolean NOT NULL DEFAULT false,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT is_default OR enabled) -- the fallback must be usable
);
CREATE UNIQUE INDEX workflows_one_default ON workflows (is_default) WHERE is_default;
CREATE TRIGGER workflows_touch BEFORE UPDATE ON workflows
    FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();

CREATE FUNCTION sb_workflows_keep_system() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.is_system THEN
        RAISE EXCEPTION 'workflow % is a system workflow and cannot be deleted', OLD.name
            USING ERRCODE = 'P0001';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER workflows_keep_system BEFORE DELETE ON workflows
    FOR EACH ROW EXECUTE FUNCTION sb_workflows_keep_system();

INSERT INTO workflows (name, description, min_approvers, is_default, is_system)
VALUES ('standard', 'One approver holding secret.approve on the project; no self-approval.',
        1, true, true);

CREATE TABLE policy_rules (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description           text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    anchor_type           text NOT NULL CHECK (anchor_type IN ('platform', 'team', 'project')),
    team_id               uuid REFERENCES teams (id) ON DELETE CASCADE,
    project_id            uuid REFERENCES projects (id) ON DELETE CASCADE,
    priority              integer NOT NULL DEFAULT 100 CHECK (priority BETWEEN -10000 AND 10000),
    workflow_id           uuid NOT NULL REFERENCES workflows (id) ON DELETE RESTRICT,
    sel_project_id        uuid,
    sel_environment_id    uuid,
    sel_environment_kind  text CHECK (sel_environment_kind IN ('non_prod', 'prod')),
    sel_provider_type     text
                          CHECK (sel_provider_type IN ('vault', 'aws-sm', 'gcp-sm', 'azure-kv', 'kubernetes')),
    sel_secret_ref_prefix text CHECK (length(sel_secret_ref_prefix) BETWEEN 1 AND 512),
    sel_operation         text CHECK (sel_operation IN ('read', 'patch', 'reveal')),
    direct_reveal_allowed boolean NOT NULL DEFAULT false,
    mfa_required          boolean NOT NULL DEFAULT false,
    reveal_ttl_s          integer NOT NULL DEFAULT 60 CHECK (reveal_ttl_s BETWEEN 10 AND 300),
    enabled               boolean NOT NULL DEFAULT true,
    created_order         bigint GENERATED ALWAYS AS IDENTITY,
    created_by            uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((anchor_type = 'platform' AND team_id IS NULL AND project_id IS NULL)
        OR (anchor_type = 'team' AND team_id IS NOT NULL AND project_id IS NULL)
        OR (anchor_type = 'project' AND project_id IS NOT NULL AND team_id IS NULL)),
    CHECK (anchor_type <> 'project' OR sel_project_id IS NULL OR sel_project_id = project_id)
);
CREATE INDEX policy_rules_enabled ON policy_rules (priority DESC, created_order) WHERE enabled;
CREATE INDEX policy_rules_team ON policy_rules (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX policy_rules_project ON policy_rules (project_id) WHERE project_id IS NOT NULL;
CREATE INDEX policy_rules_workflow ON policy_rules (workflow_id);
CREATE TRIGGER policy_rules_touch BEFORE UPDATE ON policy_rules
    FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();

-- Scoped authors (policy.author) write priorities strictly below this.
INSERT INTO platform_settings (key, value) VALUES ('policy.reserved_priority', '9000')
ON CONFLICT (key) DO NOTHING;
