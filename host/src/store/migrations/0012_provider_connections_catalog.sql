-- Provider connections (metadata only: the control plane never holds
-- provider credentials, I4), their bindings to projects/environments, the
-- secret catalog discovered by agents, and bindings of catalog secrets to
-- project environments with allowed keys and operations.

CREATE TABLE provider_connections (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                 text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,119}$'),
    type                 text NOT NULL
                         CHECK (type IN ('vault', 'aws-sm', 'gcp-sm', 'azure-kv', 'kubernetes')),
    scope                jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(scope) = 'object'),
    description          text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    discovery_interval_s integer NOT NULL DEFAULT 300
                         CHECK (discovery_interval_s BETWEEN 60 AND 86400),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER provider_connections_touch BEFORE UPDATE ON provider_connections
    FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();

-- A connection usable by a project (environment_id NULL: every environment).
CREATE TABLE connection_bindings (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connection_id  uuid NOT NULL REFERENCES provider_connections (id) ON DELETE RESTRICT,
    project_id     uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    environment_id uuid REFERENCES environments (id) ON DELETE CASCADE,
    created_by     uuid,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX connection_bindings_unique ON connection_bindings
    (connection_id, project_id, COALESCE(environment_id, '00000000-0000-0000-0000-000000000000'::uuid));
CREATE INDEX connection_bindings_project ON connection_bindings (project_id);

-- Catalog: metadata of secrets seen by discovery, never a value.
CREATE TABLE catalog_secrets (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    connection_id     uuid NOT NULL REFERENCES provider_connections (id) ON DELETE RESTRICT,
    secret_ref        text NOT NULL CHECK (length(secret_ref) BETWEEN 1 AND 1024),
    labels            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
    version           text,
    created_at_source timestamptz,
    updated_at_source timestamptz,
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    status            text NOT NULL DEFAULT 'present' CHECK (status IN ('present', 'missing')),
    CONSTRAINT catalog_secrets_ref_key UNIQUE (connection_id, secret_ref)
);
CREATE INDEX catalog_secrets_labels ON catalog_secrets USING gin (labels jsonb_path_ops);

CREATE TABLE secret_bindings (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    catalog_secret_id uuid NOT NULL REFERENCES catalog_secrets (id) ON DELETE CASCADE,
    project_id        uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    environment_id    uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    allowed_keys      text[] NOT NULL CHECK (cardinality(allowed_keys) > 0),
    allowed_ops       text[] NOT NULL CHECK (cardinality(allowed_ops) > 0
                                             AND allowed_ops <@ ARRAY['read', 'patch', 'reveal']),
    created_by        uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT secret_bindings_unique UNIQUE (catalog_secret_id, project_id, environment_id)
);
CREATE INDEX secret_bindings_project ON secret_bindings (project_id);
CREATE TRIGGER secret_bindings_touch BEFORE UPDATE ON secret_bindings
    FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();
