-- GitOps observation (SPEC §13, issue 17): Argo CD endpoints, mappings of
-- secret bindings or provider connections to applications, and one
-- observation per mapped application of each executed patch.
--
-- An endpoint's API token is stored only KMS-wrapped (token_ciphertext is
-- the base64 of the KMS ciphertext, token_key_id the key it was wrapped
-- with); it is never read back by the API, only unwrapped by the worker and
-- the health check for one plugin call.

CREATE TABLE argocd_endpoints (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    base_url          text NOT NULL CHECK (length(base_url) BETWEEN 8 AND 2048),
    project           text CHECK (length(project) BETWEEN 1 AND 253),
    ca_file           text CHECK (length(ca_file) BETWEEN 1 AND 4096),
    tls_server_name   text CHECK (length(tls_server_name) BETWEEN 1 AND 253),
    token_ciphertext  text NOT NULL CHECK (length(token_ciphertext) > 0),
    token_key_id      text NOT NULL CHECK (length(token_key_id) > 0),
    token_set_at      timestamptz NOT NULL DEFAULT now(),
    health_checked_at timestamptz,
    health_error      text CHECK (length(health_error) <= 1000),
    created_by        uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER argocd_endpoints_touch BEFORE UPDATE ON argocd_endpoints
    FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();

-- Exactly one of binding_id / connection_id: the Secrets Bridge scope whose
-- executed patches the application is expected to pick up.
CREATE TABLE gitops_mappings (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id   uuid NOT NULL REFERENCES argocd_endpoints (id) ON DELETE RESTRICT,
    application   text NOT NULL
                  CHECK (application ~ '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$'),
    binding_id    uuid REFERENCES secret_bindings (id) ON DELETE CASCADE,
    connection_id uuid REFERENCES provider_connections (id) ON DELETE CASCADE,
    created_by    uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((binding_id IS NULL) <> (connection_id IS NULL))
);
CREATE UNIQUE INDEX gitops_mappings_unique ON gitops_mappings
    (endpoint_id, application, COALESCE(binding_id, connection_id));
CREATE INDEX gitops_mappings_binding ON gitops_mappings (binding_id) WHERE binding_id IS NOT NULL;
CREATE INDEX gitops_mappings_connection ON gitops_mappings (connection_id)
    WHERE connection_id IS NOT NULL;

-- pending: created with the request's execution, no baseline yet;
-- observing: baseline taken, polling; applied / failed: evidence (final);
-- applied_unverified: no evidence by timeout_at (final).
CREATE TABLE gitops_observations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id    uuid NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    mapping_id    uuid REFERENCES gitops_mappings (id) ON DELETE SET NULL,
    endpoint_id   uuid REFERENCES argocd_endpoints (id) ON DELETE SET NULL,
    endpoint_name text NOT NULL,
    application   text NOT NULL,
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'observing', 'applied', 'failed', 'applied_unverified')),
    changed_at    timestamptz NOT NULL, -- when the patch executed
    baseline      text CHECK (length(baseline) <= 65536),
    baseline_at   timestamptz,
    evidence      text CHECK (evidence IN ('none', 'rolling', 'applied', 'failed')),
    detail        text CHECK (length(detail) <= 2000),
    last_error    text CHECK (length(last_error) <= 1000),
    polls         integer NOT NULL DEFAULT 0 CHECK (polls >= 0),
    next_poll_at  timestamptz NOT NULL DEFAULT now(),
    timeout_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((state IN ('pending', 'observing')) = (finished_at IS NULL)),
    CHECK (state = 'pending' OR state = 'applied_unverified' OR baseline IS NOT NULL),
    UNIQUE (request_id, endpoint_name, application)
);
CREATE INDEX gitops_observations_due ON gitops_observations (next_poll_at)
    WHERE state IN ('pending', 'observing');
CREATE TRIGGER gitops_observations_touch BEFORE UPDATE ON gitops_observations
    FOR EACH ROW EXECUTE FUNCTION sb_touch_updated_at();
